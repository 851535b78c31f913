"""One account, however its name is typed: user names are stored and looked up normalised."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from cases.models import User
from cases.usernames import username_normalize
from tests.factories import UserFactory

migration = importlib.import_module("cases.migrations.0004_usernames_normalised")


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("sato", "sato"),
        ("ｓａｔｏ", "sato"),  # full width, as a Japanese input method gives it
        ("SATO", "sato"),
        ("Ｓａｔｏ", "sato"),
        ("　sato ", "sato"),  # an ideographic space before it
        ("care_worker", "care_worker"),
        ("Straße", "strasse"),  # case folding, not just lower()
        ("ﬁne", "fine"),  # compatibility ligature
    ],
)
def test_every_spelling_has_one_key(typed, key):
    assert username_normalize(typed) == key
    assert username_normalize(key) == key


@pytest.mark.django_db
def test_a_new_account_is_stored_under_its_normalised_name():
    created = User.objects.create_user(username="Ｓａｔｏ", password="correct horse battery staple")
    saved = UserFactory(username="SUZUKI")

    assert User.objects.get(pk=created.pk).username == "sato"
    assert User.objects.get(pk=saved.pk).username == "suzuki"


@pytest.mark.django_db
def test_the_natural_key_finds_the_account_under_any_spelling():
    user = UserFactory(username="sato")

    assert User.objects.get_by_natural_key("ｓａｔｏ") == user
    assert User.objects.get_by_natural_key("SATO") == user


def _store_raw(user: User, username: str) -> None:
    """As an account created before names were normalised (no save(), no normalisation)."""
    User.objects.filter(pk=user.pk).update(username=username)


@pytest.mark.django_db
def test_the_migration_normalises_the_names_stored_before():
    sato, tanaka, kept = UserFactory(username="a"), UserFactory(username="b"), UserFactory(username="care_worker")
    _store_raw(sato, "Sato")
    _store_raw(tanaka, "ＴＡＮＡＫＡ")

    migration.normalise_usernames(apps, None)

    assert {u.pk: u.username for u in User.objects.filter(pk__in=[sato.pk, tanaka.pk, kept.pk])} == {
        sato.pk: "sato", tanaka.pk: "tanaka", kept.pk: "care_worker",
    }


@pytest.mark.django_db
def test_the_migration_changes_nothing_when_two_accounts_would_become_one():
    first, second, other = UserFactory(username="a"), UserFactory(username="sato"), UserFactory(username="b")
    _store_raw(first, "Sato")
    _store_raw(other, "Tanaka")

    with pytest.raises(RuntimeError) as refused:
        migration.normalise_usernames(apps, None)

    assert f"id {first.pk} ('Sato')" in str(refused.value)
    assert f"id {second.pk} ('sato')" in str(refused.value)
    assert list(User.objects.filter(pk__in=[first.pk, second.pk, other.pk]).order_by("pk")
                .values_list("username", flat=True)) == ["Sato", "sato", "Tanaka"]
