"""Session login for the browsable API and the docs.

Throttled like every password login: `authenticate()` itself refuses a throttled user name
(backend/login_throttle.py), so this view and the admin's login share one throttle and one answer.
"""

from __future__ import annotations

from django.contrib.auth.views import LoginView


class SessionLoginView(LoginView):
    template_name = "rest_framework/login.html"
    redirect_authenticated_user = True
