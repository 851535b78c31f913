"""Periods of the ward plan's statistics: a calendar month ("2025-04") or a fiscal year, April to March ("FY2025")."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
_MONTH = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^FY(20[0-9]{2})$")


@dataclass(frozen=True)
class Period:
    code: str
    start: datetime.datetime  # inclusive, Japan time
    end: datetime.datetime  # exclusive

    @property
    def is_year(self) -> bool:
        return self.code.startswith("FY")

    @property
    def last_day(self) -> datetime.date:
        """The day a table measured at a date is measured at: the period's last day (its end, exclusive, minus one)."""
        return (self.end - datetime.timedelta(days=1)).date()

    @property
    def as_of_key(self) -> str:
        return f"as_of:{self.last_day.isoformat()}"

    @property
    def fiscal_year(self) -> str:
        year = self.start.year if self.start.month >= 4 else self.start.year - 1
        return f"FY{year}"

    def months(self) -> list[Period]:
        """A fiscal year's twelve months (a month: itself)."""
        if not self.is_year:
            return [self]
        year = self.start.year
        return [period_parse(f"{year + (m < 4)}-{m:02d}") for m in (*range(4, 13), *range(1, 4))]


def _month_start(year: int, month: int) -> datetime.datetime:
    return datetime.datetime(year, month, 1, tzinfo=TOKYO)


def period_parse(code: str) -> Period:
    """A period from its code; ValueError when the code is neither a month nor a fiscal year."""
    if match := _MONTH.match(code):
        year, month = int(match[1]), int(match[2])
        end = _month_start(year + (month == 12), 1 if month == 12 else month + 1)
        return Period(code, _month_start(year, month), end)
    if match := _YEAR.match(code):
        year = int(match[1])
        return Period(code, _month_start(year, 4), _month_start(year + 1, 4))
    raise ValueError(code)


def period_ended(period: Period, *, now: datetime.datetime) -> bool:
    return period.end <= now
