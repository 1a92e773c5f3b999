"""Dates as partners type them for a temporal coverage: a year, a month or a day.

"2012" to "2016" means 1 January 2012 to 31 December 2016, as the guide's example reads.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$|^(\d{1,2})/(\d{4})$")
_DAY_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_FR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_bound(text: str, *, end: bool) -> date | None:
    """The first (or, for an end, the last) day the text can mean; None if it means none."""
    value = text.strip()
    try:
        if match := _YEAR.match(value):
            year = int(match[1])
            return date(year, 12, 31) if end else date(year, 1, 1)
        if match := _MONTH.match(value):
            year, month = (
                (int(match[1]), int(match[2])) if match[1] else (int(match[4]), int(match[3]))
            )
            last = calendar.monthrange(year, month)[1]
            return date(year, month, last if end else 1)
        if match := _DAY_ISO.match(value):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DAY_FR.match(value):
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None  # 2016-02-30, month 13…
    return None


def format_bound(day: date | None) -> str:
    return day.isoformat() if day else ""
