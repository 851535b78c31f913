"""Kana readings: every way people type a name finds the same resident."""

from __future__ import annotations

import pytest

from cases.kana import is_kana, kana_normalize


@pytest.mark.parametrize(
    "typed",
    [
        "タナカ イチロウ",  # full-width katakana, ASCII space
        "タナカ\u3000イチロウ",  # full-width (ideographic) space
        "タナカイチロウ",  # no space
        "たなか いちろう",  # hiragana
        "たなか\u3000いちろう",
        "ﾀﾅｶ ｲﾁﾛｳ",  # half-width katakana
        "ﾀﾅｶｲﾁﾛｳ",
        "  タナカ  イチロウ  ",  # several spaces, leading and trailing
        "タナカ\tイチロウ",
        "たなか イチロウ",  # mixed
        "タナカ・イチロウ",  # middle dot
        "ﾀﾅｶ･ｲﾁﾛｳ",  # half-width middle dot
    ],
)
def test_every_way_of_typing_tanaka_gives_one_key(typed):
    assert kana_normalize(typed) == "タナカイチロウ"
    assert is_kana(typed)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("ﾀﾞｲｽｹ", "ダイスケ"),  # half-width voiced mark joins its letter
        ("ﾎﾟﾁ", "ポチ"),  # semi-voiced mark
        ("ｻﾄｰ", "サトー"),  # half-width prolonged sound mark
        ("ゔぃくとりあ", "ヴィクトリア"),
        ("ぢゅうた", "ヂュウタ"),
        ("ｧｨｩｪｫｯｬｭｮ", "ァィゥェォッャュョ"),
        ("ジョン・スミス", "ジョンスミス"),
    ],
)
def test_normalisation_of_marks_small_letters_and_dots(typed, key):
    assert kana_normalize(typed) == key
    assert is_kana(typed)


def test_normalisation_is_idempotent():
    key = kana_normalize("ﾀﾅｶ　いちろう")
    assert kana_normalize(key) == key


@pytest.mark.parametrize(
    "text",
    [
        "田中",  # kanji
        "田中 一郎",
        "たなか一郎",  # kana mixed with kanji
        "Tanaka",  # latin
        "ＴＡＮＡＫＡ",  # full-width latin
        "タナカ1",  # digit
        "１２３",  # full-width digits
        "123",
        "",
        "   ",
        "\u3000",
        "・",
        "タナカ!",
        "タナカ<script>",
        "김",  # hangul
    ],
)
def test_is_kana_rejects_everything_else(text):
    assert not is_kana(text)


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["たなか いちろう", "ﾀﾅｶ", "タナカ", "たなか", "いちろう", "ﾀﾅｶ　ｲﾁﾛｳ", "ナカイチ"])
def test_search_by_any_kana_finds_tanaka(client_for, world, query):
    response = client_for("commissioner_a").get("/api/v1/residents", {"name_kana": query})

    assert response.status_code == 200, response.content
    assert [r["id"] for r in response.json()["results"]] == [world.tanaka.id]


@pytest.mark.django_db
def test_search_for_another_name_does_not_find_tanaka(client_for, world):
    response = client_for("commissioner_a").get("/api/v1/residents", {"name_kana": "すずき"})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.django_db
def test_search_only_finds_residents_the_caller_may_see(client_for, world):
    # Suzuki lives in district B: commissioner_a does not see her, commissioner_b does.
    assert client_for("commissioner_a").get("/api/v1/residents", {"name_kana": "スズキ"}).json()["results"] == []
    theirs = client_for("commissioner_b").get("/api/v1/residents", {"name_kana": "ｽｽﾞｷ"}).json()["results"]
    assert [r["id"] for r in theirs] == [world.suzuki.id]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["田中", "Tanaka", "タナカ1"])
def test_search_with_something_other_than_kana_is_400(client_for, world, query):
    response = client_for("commissioner_a").get("/api/v1/residents", {"name_kana": query})

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"


@pytest.mark.django_db
def test_a_resident_registered_in_hiragana_is_found_in_half_width(client_for, world):
    client = client_for("commissioner_a")
    created = client.post(
        "/api/v1/residents",
        {"name_kanji": "山田 花子", "name_kana": "やまだ はなこ", "date_of_birth": "1938-02-11",
         "postal_code": "2140014", "town": "登戸", "block_number": "3-1", "district": world.district_a.id,
         "household_type": "lives_alone"},
        format="json",
    )
    assert created.status_code == 201, created.content

    response = client.get("/api/v1/residents", {"name_kana": "ﾔﾏﾀﾞ ﾊﾅｺ"})

    assert [r["id"] for r in response.json()["results"]] == [created.json()["id"]]


@pytest.mark.django_db
def test_a_corrected_reading_is_searchable_at_once(client_for, world):
    client = client_for("commissioner_a")
    url = f"/api/v1/residents/{world.tanaka.id}"
    updated = client.patch(url, {"name_kana": "たなか じろう"}, format="json", HTTP_IF_MATCH=client.get(url)["ETag"])
    assert updated.status_code == 200, updated.content

    found = client.get("/api/v1/residents", {"name_kana": "ﾀﾅｶｼﾞﾛｳ"}).json()["results"]
    old = client.get("/api/v1/residents", {"name_kana": "いちろう"}).json()["results"]

    assert [r["id"] for r in found] == [world.tanaka.id]
    assert old == []
