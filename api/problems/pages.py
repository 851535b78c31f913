"""Django's error pages (backend/urls.py's handler400/403/404/500) as problems: an unknown URL, a
request Django itself refuses (a bad Host, a suspicious operation) and an error outside DRF's views
answer problem+json like every route."""

from __future__ import annotations

from api.problems.render import problem_response


def _page(code: str):
    def handler(request, exception=None):
        return problem_response(request, code)

    handler.__name__ = f"problem_page_{code}"
    return handler


django_handler400 = _page("malformed_request")
django_handler403 = _page("not_permitted")
django_handler404 = _page("not_found")
django_handler500 = _page("server_error")
