"""Synthetic data (the demo ward, the city-scale set) must never reach a production database.

Both seeding commands (`seed_demo`, `seed_scale`) ask `seeding_refusal` before writing anything.
"""

from __future__ import annotations

import os

from django.conf import settings


def seeding_refusal() -> str | None:
    """Why synthetic data may not be written here (production settings), or None when it may."""
    module = settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE", "")
    if module.endswith(".production") or (not settings.DEBUG and "test" not in module):
        return (
            f"Refusing to seed synthetic data under settings {module or '(unknown)'!r}: "
            "run it against a development or scratch database (DJANGO_SETTINGS_MODULE=backend.settings.dev)."
        )
    return None
