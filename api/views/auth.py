"""Session login for the browsable API and the docs, throttled per account and per address."""

from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _


def _keys(request, username: str) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:user:{digest}", f"login-fail:addr:{address}"]


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.data.get("username", "")
        keys = _keys(self.request, username)
        if any((cache.get(key) or 0) >= settings.LOGIN_THROTTLE_FAILURES for key in keys):
            raise forms.ValidationError(_("Too many failed attempts. Try again later."), code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            for key in keys:
                cache.add(key, 0, settings.LOGIN_THROTTLE_WINDOW_SECONDS)
                try:
                    cache.incr(key)
                except ValueError:
                    cache.set(key, 1, settings.LOGIN_THROTTLE_WINDOW_SECONDS)
            raise


class ThrottledLoginView(LoginView):
    template_name = "rest_framework/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True
