"""One translation mechanism: Django's catalogues. Every user-facing message is English in the code, marked
for translation, with its Japanese in locale/ja/LC_MESSAGES/django.po (compiled to the committed django.mo);
the language is chosen once, by LocaleMiddleware from Accept-Language.

These tests need no GNU gettext: the code is read with `ast` (what xgettext would extract), the .po with
polib and the .mo with the standard library, so a message with no Japanese, an unmarked message or a
stale .mo fails here on any machine."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import polib
import pytest
import rest_framework
from django.conf import settings
from django.urls import get_resolver
from django.utils import translation
from django_filters.filterset import BaseFilterSet
from rest_framework import serializers

from api.problems import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("backend", "api", "cases", "permissions", "audit", "notifications", "integrations", "plan_statistics",
            "demo", "service_directory")
PO = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
GETTEXT = {"_", "gettext", "gettext_lazy"}
OTHER_GETTEXT = {"pgettext", "pgettext_lazy", "ngettext", "ngettext_lazy", "npgettext", "npgettext_lazy"}
DRF_COMMENT = "rest_framework:"
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{[^{}]*\}")


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _name(node: ast.AST) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _marked() -> dict[str, str]:
    """Every literal marked for translation in our code: msgid → where."""
    found = {}
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in GETTEXT:
                argument = node.args[0] if node.args else None
                assert isinstance(argument, ast.Constant) and isinstance(argument.value, str), (
                    f"{path.relative_to(ROOT)}:{node.lineno}: translate a literal, not a computed string")
                found.setdefault(argument.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_only_the_gettext_forms_these_tests_read_are_used():
    used = [f"{path.relative_to(ROOT)}:{node.lineno}" for path, tree in _modules() for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _name(node.func) in OTHER_GETTEXT]
    assert used == [], "extend _marked() to read contexts and plurals"


def test_every_message_marked_in_our_code_has_japanese():
    marked = _marked()
    assert len(marked) > 20  # the scan sees the serializers', filters' and catalogue's messages
    missing, broken = [], []
    with translation.override("ja"):
        for msgid, where in sorted(marked.items()):
            japanese = translation.gettext(msgid)
            if japanese == msgid or japanese.isascii():
                missing.append(f"{where}: {msgid}")
            elif _placeholders(japanese) != _placeholders(msgid):
                broken.append(f"{where}: {msgid} → {japanese}")
    assert missing == [], "add the Japanese to locale/ja/LC_MESSAGES/django.po, then `make messages`"
    assert broken == []


_MESSAGE_ARGUMENTS = {"detail", "message"}


def _bare_texts(node: ast.AST):
    """String literals reaching an error's message without passing through gettext."""
    if isinstance(node, ast.Call) and _name(node.func) in GETTEXT:
        return
    if isinstance(node, (ast.Constant, ast.JoinedStr)):
        if isinstance(node, ast.JoinedStr) or isinstance(node.value, str):
            yield node
        return
    children = {
        ast.Dict: lambda n: n.values, ast.List: lambda n: n.elts, ast.Tuple: lambda n: n.elts,
        ast.Set: lambda n: n.elts, ast.DictComp: lambda n: [n.value], ast.ListComp: lambda n: [n.elt],
        ast.BinOp: lambda n: [n.left], ast.Call: lambda n: n.args[:1],  # ErrorDetail(text, code)
    }
    for kind, nested in children.items():
        if isinstance(node, kind):
            for child in nested(node):
                yield from _bare_texts(child)


def test_no_error_message_is_written_unmarked():
    """A ValidationError's (or ErrorDetail's) text is marked, or Japanese callers would read English."""
    bare = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in ("ValidationError", "ErrorDetail"):
                arguments = node.args[:1] + [k.value for k in node.keywords if k.arg in _MESSAGE_ARGUMENTS]
                bare += [f"{path.relative_to(ROOT)}:{text.lineno}" for argument in arguments
                         for text in _bare_texts(argument)]
    assert bare == []


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _ours(cls) -> bool:
    return cls.__module__.split(".")[0] in PACKAGES


def _field_messages(field, path: str, into: dict) -> None:
    for key, text in field.error_messages.items():
        into[f"{path}:{key}"] = str(text)
    for index, validator in enumerate(getattr(field, "validators", [])):
        if getattr(validator, "message", None) is not None:
            into[f"{path}:{type(validator).__name__}{index}"] = str(validator.message)
    child = getattr(field, "child", None) or getattr(field, "child_relation", None)
    if child is not None:
        _field_messages(child, f"{path}[]", into)
    if isinstance(field, serializers.Serializer):
        for name, nested in field.fields.items():
            _field_messages(nested, f"{path}.{name}", into)


def _producible(language: str) -> dict[str, str]:
    """Every message our serializers' fields and validators and our query filters' fields can answer, in
    `language`: built afresh (DRF formats a limit's message once per field instance and keeps it)."""
    assert get_resolver().url_patterns  # imports every route's module, so every serializer is defined
    messages: dict[str, str] = {}
    with translation.override(language):
        for cls in _subclasses(serializers.BaseSerializer):
            if _ours(cls) and not (issubclass(cls, serializers.ModelSerializer) and not hasattr(cls, "Meta")):
                _field_messages(cls(), cls.__qualname__, messages)
        for cls in _subclasses(BaseFilterSet):
            if _ours(cls) and getattr(cls, "_meta", None) and cls._meta.model is not None:
                for name, declared in cls.base_filters.items():
                    for key, text in declared.field.error_messages.items():
                        messages[f"{cls.__qualname__}.{name}:{key}"] = str(text)
    return messages


@pytest.mark.django_db
def test_every_field_message_our_serializers_and_filters_can_produce_has_japanese():
    english, japanese = _producible("en"), _producible("ja")
    assert english.keys() == japanese.keys() and len(english) > 1000
    untranslated = sorted({english[key] for key in english if japanese[key] == english[key]})
    assert untranslated == [], "add DRF's or Django's msgid with its Japanese to the .po (comment 'rest_framework:')"
    assert all(text.isascii() for text in english.values())


def _entries() -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(PO)) if not entry.obsolete]


def test_every_entry_of_the_catalogue_is_translated_and_still_used():
    marked = _marked()
    drf_source = "\n".join(path.read_text(encoding="utf-8")
                           for path in Path(rest_framework.__file__).parent.rglob("*.py"))
    problems = []
    for entry in _entries():
        if "fuzzy" in entry.flags or not entry.msgstr or entry.msgstr.isascii():
            problems.append(f"untranslated: {entry.msgid}")
        if _placeholders(entry.msgstr) != _placeholders(entry.msgid):
            problems.append(f"placeholders differ: {entry.msgid}")
        drf = entry.comment.startswith(DRF_COMMENT)
        if not (drf and repr(entry.msgid)[1:-1] in drf_source) and not (not drf and entry.msgid in marked):
            problems.append(f"not in the code (remove it): {entry.msgid}")
    assert problems == []


def test_the_compiled_catalogue_is_the_catalogue():
    """django.mo is committed (no msgfmt needed to run the service): it must say what django.po says."""
    with MO.open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    catalog.pop("", None)  # the header
    assert catalog == {entry.msgid: entry.msgstr for entry in _entries()}, "run `make messages`"


def test_every_problem_code_has_japanese_and_english():
    for code, entry in CATALOGUE.items():
        with translation.override("en"):
            english = entry.message
        with translation.override("ja"):
            japanese = entry.message
        assert english.isascii() and not japanese.isascii(), code
        assert not PLACEHOLDER.search(english + japanese), code  # every limit is filled in


def test_the_language_is_chosen_in_one_place():
    """LocaleMiddleware picks ja or en from Accept-Language (else LANGUAGE_CODE, Japanese); no code asks again."""
    assert settings.LANGUAGE_CODE == "ja"
    assert [code for code, _ in settings.LANGUAGES] == ["ja", "en"]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE
    asking = [f"{path.relative_to(ROOT)}:{node.lineno}" for path, tree in _modules() for node in ast.walk(tree)
              if isinstance(node, ast.Call) and _name(node.func) in ("get_language", "get_language_from_request")]
    assert asking == []


@pytest.mark.django_db
@pytest.mark.parametrize("accept_language, title, message", [
    ("ja", "リクエストの項目に誤りがあります。", "1から200までの整数を入力してください。"),
    ("en", "The request has invalid fields.", "Enter a whole number from 1 to 200."),
    ("en-GB,en;q=0.8", "The request has invalid fields.", "Enter a whole number from 1 to 200."),
    ("fr", "リクエストの項目に誤りがあります。", "1から200までの整数を入力してください。"),  # neither: Japanese
])
def test_a_field_message_follows_accept_language_and_names_the_setting(world, client_for, accept_language, title,
                                                                       message):
    client = client_for("commissioner_a", HTTP_ACCEPT_LANGUAGE=accept_language)

    problem = client.get("/api/v1/residents", {"page_size": "500"}).json()

    assert (problem["code"], problem["title"]) == ("validation_error", title)
    assert problem["errors"] == [{"field": "page_size", "code": "invalid", "message": message}]


@pytest.mark.django_db
@pytest.mark.parametrize("accept_language, message", [
    ("ja", "true または false を入力してください。"), ("en", "Must be a valid boolean."),
])
def test_drf_messages_its_catalogue_lacks_are_japanese_too(world, accept_language, message):
    """DRF ships no Japanese for "Must be a valid boolean."; ours fills it."""
    from api.serializers.base import StrictSerializer

    class Flag(StrictSerializer):
        flag = serializers.BooleanField()

    with translation.override(accept_language):
        serializer = Flag(data={"flag": "perhaps"})
        assert not serializer.is_valid()
    assert serializer.errors == {"flag": [message]}

