"""Japanese address normalisation: one key for one dwelling, however the address is written.

The same flat is written 「神奈川県川崎市多摩区登戸一丁目2番15号 コーポ登戸101号室」 on the register,
「登戸1-2-15-101」 on a delivery slip and 「多摩区登戸１の２の１５　コーポ登戸　１０１」 in a meter
reader's notes. Matching a partner's report to a resident, and noticing that a new resident may
already be registered, both compare the key made here, so the register and the reports agree by
construction (ADR 0010 says why this is our own rule-based code and which libraries were tried).

The key is the dwelling's house address — municipality, town (町名, 大字/字 dropped) and the run of
numbers that follows it (丁目, 番/番地, 号 in any of their written forms, in order) — and, apart,
the room. Everything after the number run is the building: a building name may contain 「1丁目」 or
「5号棟」 and a room may be written 「5号」; neither is read as part of the house address, because the
run ends at the first character that is not a number or a number's unit. Kanji numerals are read
as numbers only where a unit (or the end) follows them, so 「三田」 stays a town and 「三田ハイツ」 a
building. Where the text says nothing it cannot be sure of, the key says less (no room, or no key
at all) rather than something else: a report that matches nobody goes to the ward section as
written, while a wrong match would send a safety check to the wrong door.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

DEFAULT_PREFECTURE = "神奈川県"
KAWASAKI = "川崎市"
KAWASAKI_WARDS = ("川崎区", "幸区", "中原区", "高津区", "宮前区", "多摩区", "麻生区")
# The towns (町名) of 多摩区, longest first, so 「登戸新町」 is not read as 「登戸」 followed by a building and
# 「菅北浦」 not as 「菅」. Towns of other municipalities are found by the general rule (up to the first number).
TAMA_TOWNS = tuple(sorted((
    "生田", "宿河原", "菅", "菅稲田堤", "菅北浦", "菅城下", "菅仙谷", "菅野戸呂", "菅馬場", "堰", "寺尾台",
    "中野島", "長尾", "長沢", "西生田", "登戸", "登戸新町", "布田", "東生田", "東三田", "枡形", "三田", "南生田",
), key=len, reverse=True))

# Variant characters written for the same town (異体字) and the small ke of 「梶ヶ谷」.
_VARIANTS = str.maketrans({"﨑": "崎", "髙": "高", "邊": "辺", "邉": "辺", "濵": "浜", "濱": "浜", "ヶ": "ケ",
                           "ヵ": "カ", "塚": "塚", "德": "徳", "國": "国"})
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2500\u2501\u30fc\uff70~〜]")
_DIGIT_DASH = re.compile(r"(?<=[\d〇一二三四五六七八九十百千])[ー\-](?=[\d〇一二三四五六七八九十])")
_SPACES = re.compile(r"[\s\u3000]+")
_POSTAL = re.compile(r"^〒?\s*\d{3}-?\d{4}\s*")
_PREFECTURE = re.compile(r"^(東京都|北海道|京都府|大阪府|[^\s\d都道府県]{2,3}県)")
_OTHER_CITY = re.compile(r"^([^\s\d]{1,5}?市)([^\s\d]{1,4}?区)?")
_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMBER = re.compile(r"\d+|[〇零一二三四五六七八九十百千]+")
# Units after a number, longest first. `continues`: another number of the same address may follow.
_UNIT = re.compile(r"\s*(丁目|丁|番地の|番地|番の|番|号の|号|の|ノ|之|-)\s*")
_ENDS_KANJI_NUMBER = re.compile(r"\s|丁|番|号|の|ノ|之|-|$")
_ROOM = re.compile(r"(?:^|[\s\-#＃]|(?<=[^\d\s]))(\d{1,5}(?:-\d{1,4})?)\s*(?:号室|号|室)?\s*$")
_ROOM_ONLY = re.compile(r"^[\s\-#]*(\d{1,5}(?:-\d{1,4})?)\s*(?:号室|号|室)?\s*$")
# More than three numbers in a row: 丁目-番-号 and then the room (「登戸1-2-15-101」).
_MAX_HOUSE_NUMBERS = 3


@dataclass(frozen=True)
class Address:
    """An address read into its parts; `key` is None when no town or house number could be read."""

    municipality: str
    town: str
    numbers: tuple[int, ...]
    building: str
    room: str

    @property
    def key(self) -> str | None:
        if not self.town or not self.numbers:
            return None
        return house_key(municipality=self.municipality, town=self.town, numbers=self.numbers)


def house_key(*, municipality: str, town: str, numbers: tuple[int, ...]) -> str:
    return f"{municipality}|{town}|{'-'.join(str(n) for n in numbers)}"


def _clean(text: str) -> str:
    """NFKC (full width → half width), variant characters, one kind of dash and of space."""
    text = unicodedata.normalize("NFKC", text or "").translate(_VARIANTS)
    text = _DASHES.sub("ー", text)
    # A long-vowel mark or dash between two numbers is a hyphen; inside 「グリーンハイツ」 it stays a letter.
    previous = None
    while previous != text:
        previous, text = text, _DIGIT_DASH.sub("-", text)
    text = re.sub(r"ー(?=\d)", "-", text) if re.search(r"\dー\d", text) else text
    return _SPACES.sub(" ", text).strip()


def _kanji_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if not any(ch in _KANJI_UNITS for ch in text):
        # Positional (「二〇一」 = 201).
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in text))
    total = current = 0
    for ch in text:
        if ch in _KANJI_DIGITS:
            current = _KANJI_DIGITS[ch]
        else:
            unit = _KANJI_UNITS[ch]
            total += (current or 1) * unit
            current = 0
    return total + current


def municipality_normalize(text: str) -> str:
    """「神奈川県川崎市多摩区」, 「川崎市 多摩区」 and 「多摩区」 are one municipality: 「川崎市多摩区」."""
    municipality, rest = _split_municipality(_clean(text), default="")
    return municipality if not rest else _clean(text).replace(" ", "")


def _split_municipality(text: str, *, default: str) -> tuple[str, str]:
    text = _POSTAL.sub("", text)
    prefecture = ""
    found = _PREFECTURE.match(text)
    if found:
        prefecture, text = found.group(1), text[found.end():].lstrip()
    if text.startswith(KAWASAKI):
        text = text[len(KAWASAKI):].lstrip()
        ward = next((w for w in KAWASAKI_WARDS if text.startswith(w)), "")
        text = text[len(ward):].lstrip()
        municipality = KAWASAKI + ward
    elif ward := next((w for w in KAWASAKI_WARDS if text.startswith(w)), ""):
        text = text[len(ward):].lstrip()
        municipality = KAWASAKI + ward
    elif prefecture and (city := _OTHER_CITY.match(text)):
        municipality, text = city.group(0), text[city.end():].lstrip()
    else:
        municipality = default
    if prefecture and prefecture != DEFAULT_PREFECTURE:
        municipality = prefecture + municipality
    return municipality, text


def town_normalize(text: str) -> str:
    """A town name as the key holds it: NFKC, variant characters, no spaces, no 大字/字."""
    text = _clean(text).replace(" ", "")
    for prefix in ("大字", "字"):
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix):]
    return text


def _split_town(text: str) -> tuple[str, str]:
    text = text.replace(" ", "", 1) if text[:2] in ("大字 ", "字 ") else text
    for prefix in ("大字", "字"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    for town in TAMA_TOWNS:
        if text.startswith(town):
            return town, text[len(town):]
    # Any other town: up to the first number that starts the house address.
    for found in _NUMBER.finditer(text):
        start, end = found.span()
        if found.group(0).isdigit() or _ENDS_KANJI_NUMBER.match(text, end):
            return town_normalize(text[:start]), text[start:]
    return town_normalize(text), ""


def _read_numbers(text: str) -> tuple[list[int], str]:
    """The run of house numbers at the start of `text` and what follows it (the building and room)."""
    numbers: list[int] = []
    position = 0
    text_length = len(text)
    while position < text_length:
        found = _NUMBER.match(text, position)
        if found is None:
            break
        token = found.group(0)
        if not token.isdigit() and not _ENDS_KANJI_NUMBER.match(text, found.end()):
            break  # 「三田ハイツ」: a kanji numeral that is part of a name
        numbers.append(_kanji_number(token))
        position = found.end()
        unit = _UNIT.match(text, position)
        if unit is None:
            break
        word = unit.group(1)
        if word == "号":
            position = unit.end()
            break  # 号 closes the house address; a number after it is a room
        following = _NUMBER.match(text, unit.end())
        if following is None:
            if word in ("丁目", "丁", "番地", "番"):
                position = unit.end()
            break
        position = unit.end()
    return numbers, text[position:]


def _read_room(rest: str) -> tuple[str, str]:
    rest = rest.strip()
    if not rest:
        return "", ""
    only = _ROOM_ONLY.match(rest)
    if only:
        return "", room_normalize(only.group(1))
    found = _ROOM.search(rest)
    if found is None:
        return rest, ""
    return rest[:found.start(1)].strip(" -#"), room_normalize(found.group(1))


def room_normalize(text: str) -> str:
    """「１０１号室」, 「101号」, 「#101」 and 「１０１」 are one room: 「101」. Empty when none."""
    text = _clean(text).replace(" ", "")
    text = re.sub(r"(号室|号|室)$", "", text).lstrip("#-")
    numbers = re.findall(r"\d+", text)
    return "-".join(str(int(n)) for n in numbers) if numbers and re.fullmatch(r"[\d\-]+", text) else text


def address_parse(text: str, *, default_municipality: str = "") -> Address:
    """Read an address written any of the usual ways (a delivery slip, the register, a form)."""
    cleaned = _clean(text)
    municipality, rest = _split_municipality(cleaned, default=default_municipality)
    town, rest = _split_town(rest)
    numbers, rest = _read_numbers(rest.lstrip())
    building, room = _read_room(rest)
    if len(numbers) > _MAX_HOUSE_NUMBERS and not room:
        room = str(numbers[_MAX_HOUSE_NUMBERS])
        numbers = numbers[:_MAX_HOUSE_NUMBERS]
    elif len(numbers) > _MAX_HOUSE_NUMBERS:
        numbers = numbers[:_MAX_HOUSE_NUMBERS]
        return Address(municipality, town, (), building, room)  # more numbers than a dwelling has: unsure
    return Address(municipality, town, tuple(numbers), building, room)


def register_address(*, municipality: str, town: str, chome: int | None, block_number: str,
                     building: str = "", room: str = "") -> Address:
    """A resident's address as the register holds it in fields, read into the same parts as a report's."""
    numbers, rest = _read_numbers(_clean(block_number))
    parsed_room = room_normalize(room) if room else ""
    if rest.strip() and not parsed_room:
        _, parsed_room = _read_room(rest)
    return Address(
        municipality=municipality_normalize(municipality) if municipality else "",
        town=town_normalize(town),
        numbers=((chome,) if chome else ()) + tuple(numbers),
        building=_clean(building),
        room=parsed_room,
    )


def same_dwelling(a: Address, b: Address) -> bool:
    """One house address and no room that says otherwise (a room on one side only does not contradict)."""
    return a.key is not None and a.key == b.key and (not a.room or not b.room or a.room == b.room)


def resident_address_keys(*, municipality: str, town: str, chome: int | None, block_number: str,
                          building: str = "", room: str = "") -> dict[str, str]:
    """The `address_key` and `room_key` a resident row stores (empty key when the address cannot be read)."""
    address = register_address(municipality=municipality, town=town, chome=chome, block_number=block_number,
                               building=building, room=room)
    return {"address_key": address.key or "", "room_key": address.room[:20]}
