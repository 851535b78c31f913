"""When a service is open: its schedules' RFC 5545 recurrence rules, read with python-dateutil's rrule.

A schedule is stored in the parts HSDS names (freq, interval, byday, bymonthday, dtstart, until,
opens_at, closes_at), in the ward's local time (Asia/Tokyo). `rrule_text` gives the RRULE line HSDS
publishes; `occurs_on` says whether a day is one of its days, `open_at` whether it is open at a moment.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from functools import lru_cache

from dateutil.rrule import rrulestr

from service_directory.models import Schedule

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
_BYMONTHDAY = re.compile(r"^(-?(?:[1-9]|[12][0-9]|3[01]))$")


def byday_valid(value: str) -> bool:
    return value == "" or all(_BYDAY.match(part) for part in value.split(","))


def bymonthday_valid(value: str) -> bool:
    return value == "" or all(_BYMONTHDAY.match(part) for part in value.split(","))


def rrule_text(schedule: Schedule) -> str:
    """The schedule's RRULE (without DTSTART), e.g. FREQ=MONTHLY;INTERVAL=1;BYDAY=2TU."""
    parts = [f"FREQ={schedule.freq}", f"INTERVAL={schedule.interval}"]
    if schedule.byday:
        parts.append(f"BYDAY={schedule.byday}")
    if schedule.bymonthday:
        parts.append(f"BYMONTHDAY={schedule.bymonthday}")
    if schedule.until:
        parts.append(f"UNTIL={schedule.until:%Y%m%d}")
    return ";".join(parts)


@lru_cache(maxsize=4096)
def _rule(text: str, dtstart: datetime.date):
    return rrulestr(text, dtstart=datetime.datetime.combine(dtstart, datetime.time()), cache=True)


def occurs_on(schedule: Schedule, day: datetime.date) -> bool:
    """True when `day` is one of the schedule's days."""
    if day < schedule.dtstart or (schedule.until and day > schedule.until):
        return False
    start = datetime.datetime.combine(day, datetime.time())
    occurrence = _rule(rrule_text(schedule), schedule.dtstart).after(start, inc=True)
    return occurrence == start

def open_at(schedule: Schedule, moment: datetime.datetime) -> bool:
    """True when the service is open at `moment` under this schedule (local time)."""
    local = moment.astimezone(TOKYO)
    return schedule.opens_at <= local.time() < schedule.closes_at and occurs_on(schedule, local.date())


def weekday_code(day: datetime.date) -> str:
    return WEEKDAYS[day.weekday()]
