"""Address normalisation: a few hundred generated addresses written the many ways people write them.

Each register address (the demo ward's real towns, random blocks, buildings and rooms) is written in
several forms a delivery slip, a form or a meter reader's note would use; each must give the dwelling's
key. Beside each, near misses (another 号, another 丁目, a town that contains the town's name, another
room) must never give it: a wrong match sends a safety check to the wrong door.
"""

from __future__ import annotations

import random

import pytest

from cases.addresses import address_parse, register_address, same_dwelling
from demo.ward import AREAS

KANJI = "〇一二三四五六七八九"
TOWNS = sorted({spec.town: spec.chomes for area in AREAS for spec in area.districts}.items())
NEAR_TOWNS = {"登戸": "登戸新町", "菅": "菅北浦", "生田": "西生田", "三田": "東三田"}
BUILDINGS = ("コーポ{t}", "{t}ハイツ", "パークハイム{t}1丁目", "市営{t}住宅 5号棟", "サンライズ{t}", "グリーンハイツ",
             "メゾン・ド・{t}")


def kanji(n: int) -> str:
    """一, 十二, 二十五 …"""
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else KANJI[tens]) + "十" if tens else "") + (KANJI[ones] if ones else "")


def wide(text: str) -> str:
    return text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))


def written_forms(town: str, chome: int | None, ban: int, go: int, building: str, room: str) -> list[str]:
    c = f"{chome}-" if chome else ""
    cj = f"{chome}丁目" if chome else ""
    bld = f" {building}" if building else ""
    rm = f" {room}" if room else ""
    forms = [
        f"神奈川県川崎市多摩区{town}{cj}{ban}番{go}号{bld}{rm}{'号室' if room else ''}",
        f"{town}{c}{ban}-{go}{bld}{rm}",
        f"多摩区{town}{wide(c)}{wide(str(ban))}の{wide(str(go))}{bld}　{wide(room)}".rstrip(),
        f"川崎市 多摩区 {town}{kanji(chome) + '丁目' if chome else ''}{kanji(ban)}番地{kanji(go)}{bld}{rm}",
        f"〒214-0000 {town}{c}{ban}ー{go}{bld}{' #' + room if room else ''}",
        f"{town}{cj} {ban}番地の{go}{bld}{rm}{'号' if room else ''}",
    ]
    if room:
        forms.append(f"{town}{c}{ban}-{go}-{room}")
    return forms


def cases(seed: int = 20261201, count: int = 60):
    rng = random.Random(seed)
    for _ in range(count):
        town, chomes = rng.choice(TOWNS)
        chome = rng.choice(chomes) if chomes else None
        ban, go = rng.randint(1, 30), rng.randint(1, 30)
        building = rng.choice(BUILDINGS).format(t=town) if rng.random() < 0.5 else ""
        room = f"{rng.randint(1, 5)}{rng.randint(1, 12):02d}" if building else ""
        yield town, chome, ban, go, building, room


def register(town, chome, ban, go, building="", room=""):
    return register_address(municipality="川崎市多摩区", town=town, chome=chome, block_number=f"{ban}-{go}",
                            building=building, room=room)


def near_misses(town, chome, ban, go, building, room) -> list:
    other_go = go + 1 if go < 30 else go - 1
    misses = [register(town, chome, ban, other_go, building, room),
              register(town, chome, ban + 1, go, building, room),
              register(town, (chome or 1) + 1 if chome else 2, ban, go, building, room),
              # 「5号」 of the building's 「5号棟」 is not the block's 号
              register(town, chome, ban, 5 if go != 5 else 6, building, room),
              register(NEAR_TOWNS.get(town, town + "新町"), chome, ban, go, building, room)]
    if room:
        misses.append(register(town, chome, ban, go, building, str(int(room) + 1)))
    return misses


def test_address_pairs(capsys):
    correct = wrong = missed = 0
    pairs = 0
    misses = []
    for town, chome, ban, go, building, room in cases():
        stored = register(town, chome, ban, go, building, room)
        for text in written_forms(town, chome, ban, go, building, room):
            parsed = address_parse(text, default_municipality="川崎市多摩区")
            pairs += 1
            if same_dwelling(parsed, stored):
                correct += 1
            else:
                missed += 1
                misses.append((text, parsed))
            for other in near_misses(town, chome, ban, go, building, room):
                pairs += 1
                if same_dwelling(parsed, other):
                    wrong += 1
                    misses.append(("WRONG", text, other))
    with capsys.disabled():
        print(f"\naddress pairs: {pairs} ({correct + missed} same dwelling, {pairs - correct - missed} near misses); "
              f"matched correctly {correct}, wrongly matched {wrong}, not matched {missed}")
    assert wrong == 0, misses[:5]
    # Not matched, by design: a room appended to a town without 丁目 (「布田3-18-412」) reads as a house number.
    assert all(text.startswith(tuple(town for town, chomes in TOWNS if not chomes)) for text, _ in misses), misses
    assert missed <= correct // 50


@pytest.mark.parametrize(("text", "key", "building", "room"), [
    ("神奈川県川崎市多摩区登戸一丁目2番15号 コーポ登戸101号室", "川崎市多摩区|登戸|1-2-15", "コーポ登戸", "101"),
    ("登戸1-2-15-101", "川崎市多摩区|登戸|1-2-15", "", "101"),
    ("登戸1丁目2番地15 パークハイム登戸1丁目 5号", "川崎市多摩区|登戸|1-2-15", "パークハイム登戸1丁目", "5"),
    ("三田1-2-3 三田ハイツ203", "川崎市多摩区|三田|1-2-3", "三田ハイツ", "203"),
    ("東三田2丁目3-4", "川崎市多摩区|東三田|2-3-4", "", ""),
    ("登戸新町12-3", "川崎市多摩区|登戸新町|12-3", "", ""),
    ("大字菅 1234-5", "川崎市多摩区|菅|1234-5", "", ""),
    ("菅北浦四丁目十二番三号", "川崎市多摩区|菅北浦|4-12-3", "", ""),
    ("登戸1ー2ー15グリーンハイツ", "川崎市多摩区|登戸|1-2-15", "グリーンハイツ", ""),
    ("川崎市麻生区百合丘1-2-3", "川崎市麻生区|百合丘|1-2-3", "", ""),
    ("東京都町田市原町田1-2-3", "東京都町田市|原町田|1-2-3", "", ""),
])
def test_hard_cases(text, key, building, room):
    parsed = address_parse(text, default_municipality="川崎市多摩区")
    assert (parsed.key, parsed.building, parsed.room) == (key, building, room)


def test_unreadable_address_has_no_key():
    """An address with no town or no number gives no key: it matches nobody and goes to the ward as written."""
    assert address_parse("駅前の青い屋根の家", default_municipality="川崎市多摩区").key is None
    assert address_parse("", default_municipality="川崎市多摩区").key is None
