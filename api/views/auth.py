"""Session login for the browsable API and the docs, throttled per account and per address."""

from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

# Behind a reverse proxy many people share one address, so an address may fail
# ten times as often as one account before it is refused.
ADDRESS_FACTOR = 10


def _limits(request, username: str) -> list[tuple[str, int]]:
    address = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    limit = settings.LOGIN_THROTTLE_FAILURES
    return [(f"login-fail:user:{digest}", limit), (f"login-fail:addr:{address}", limit * ADDRESS_FACTOR)]


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.data.get("username", "")
        limits = _limits(self.request, username)
        if any((cache.get(key) or 0) >= limit for key, limit in limits):
            raise forms.ValidationError(_("Too many failed attempts. Try again later."), code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            for key, _limit in limits:
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
