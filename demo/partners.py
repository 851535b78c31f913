"""The demo ward's watch-over agreements (見守り協定) with its partner businesses.

The newspaper shop's agreement is the one the demo `partner` account reports under:
`POST /api/v1/partner-reports` with `"agreement": "TAMA-2026-001"`.
"""

from __future__ import annotations

from cases.models import PartnerAgreement
from cases.models.partners import PartnerSignal as S
from demo.ward import NEWSPAPER, STAFF_SINCE, World

AGREEMENTS = (
    ("TAMA-2026-001", NEWSPAPER, [S.NEWSPAPERS_PILING_UP, S.MAIL_PILING_UP, S.SHUTTERS_CLOSED, S.LAUNDRY_LEFT_OUT,
                                  S.NO_ANSWER_SEEMS_HOME]),
    ("TAMA-2026-002", "多摩生活協同組合 宅配センター", [S.NO_ANSWER_SEEMS_HOME, S.LAUNDRY_LEFT_OUT,
                                                        S.SHUTTERS_CLOSED, S.STRANGE_SMELL]),
    ("TAMA-2026-003", "多摩水道メーター点検", [S.METER_UNCHANGED, S.METER_RUNNING]),
)


def agreements_build(*, world: World) -> list[PartnerAgreement]:
    """One agreement per partner business, covering the whole ward from the staff's start date."""
    return [
        PartnerAgreement.objects.update_or_create(
            code=code, defaults={"organization": world.orgs[name], "municipality": "川崎市多摩区",
                                 "signals": [s.value for s in signals], "valid_from": STAFF_SINCE,
                                 "valid_until": None})[0]
        for code, name, signals in AGREEMENTS
    ]
