"""/healthz says the process answers; /readyz says the database and the broker answer too."""

from __future__ import annotations

import os

import pytest
from django.db import OperationalError
from django.test import Client

from backend.celery import app as celery_app

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_url():
    """Set the Celery app's broker for one test and restore it afterwards."""
    original = celery_app.conf.broker_url

    def use(url: str) -> None:
        celery_app.conf.broker_url = url

    yield use
    celery_app.conf.broker_url = original


def test_healthz_answers_without_the_database():
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_database_and_broker_answer():
    response = Client().get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.services
def test_ci_checks_the_redis_broker(settings):
    """With REDIS_URL set (CI), readiness checks the real Redis broker, not the filesystem fallback."""
    assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL
    expected = os.environ.get("CELERY_BROKER_URL") or os.environ["REDIS_URL"]
    assert settings.CELERY_BROKER_URL == expected
    assert settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_is_unreachable(broker_url):
    broker_url(UNREACHABLE_BROKER)

    response = Client().get("/readyz")

    assert response.status_code == 503, response.content
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "down"}}


@pytest.mark.django_db
def test_readyz_recovers_when_the_broker_is_back(broker_url):
    original = celery_app.conf.broker_url
    broker_url(UNREACHABLE_BROKER)
    assert Client().get("/readyz").status_code == 503

    broker_url(original)

    assert Client().get("/readyz").status_code == 200


class _BrokenConnection:
    def cursor(self):
        raise OperationalError("connection refused")


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_is_unreachable(monkeypatch):
    monkeypatch.setattr("api.views.health.connection", _BrokenConnection())

    response = Client().get("/readyz")

    assert response.status_code == 503, response.content
    assert response.json() == {"status": "unavailable", "checks": {"database": "down", "broker": "ok"}}


@pytest.mark.django_db
def test_readyz_is_503_when_both_are_down(monkeypatch, broker_url):
    monkeypatch.setattr("api.views.health.connection", _BrokenConnection())
    broker_url(UNREACHABLE_BROKER)

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "down", "broker": "down"}


def test_health_endpoints_carry_a_request_id():
    response = Client().get("/healthz")

    assert len(response["X-Request-ID"]) == 32
