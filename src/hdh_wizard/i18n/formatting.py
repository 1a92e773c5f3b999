"""Sizes and dates in the user's conventions: "1,2 Go" and "28 novembre 2026" in French."""

from __future__ import annotations

from datetime import date, datetime

from hdh_wizard.i18n.catalogue import Lang

_UNITS = {
    Lang.FR: ("octets", "ko", "Mo", "Go", "To"),
    Lang.EN: ("bytes", "kB", "MB", "GB", "TB"),
}
_ONE_BYTE = {Lang.FR: "octet", Lang.EN: "byte"}
_MONTHS = {
    Lang.FR: (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    Lang.EN: (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def format_count(n: int, *, exact: bool = True) -> str:
    """Thousands grouped by a narrow no-break space (16 500 000), as French typography wants; an
    estimate (a sketch's distinct count) always says so: "≈ 16 500 000"."""
    text = f"{n:,}".replace(",", "\u202f")
    return text if exact else f"≈\u00a0{text}"


def format_size(num_bytes: int, lang: Lang = Lang.FR) -> str:
    """Decimal units (1 Go = 10^9 octets), as the guide's threshold is stated."""
    units = _UNITS[lang]
    if num_bytes < 1000:
        unit = _ONE_BYTE[lang] if num_bytes == 1 else units[0]
        return f"{num_bytes} {unit}"
    value = float(num_bytes)
    index = 0
    while True:
        index += 1
        value /= 1000
        text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
        # Round first, then choose the unit: 999 999 octets is "1 Mo", not "1000 ko".
        if float(text) < 1000 or index == len(units) - 1:
            break
    unit = units[index]
    if text.endswith(".0"):
        text = text[:-2]
    if lang is Lang.FR:
        text = text.replace(".", ",")
    return f"{text} {unit}"


def format_date(day: date, lang: Lang = Lang.FR) -> str:
    month = _MONTHS[lang][day.month - 1]
    if lang is Lang.FR:
        first = "1er" if day.day == 1 else str(day.day)
        return f"{first} {month} {day.year}"
    return f"{day.day} {month} {day.year}"


def format_datetime(moment: datetime, lang: Lang = Lang.FR) -> str:
    """The moment in the local timezone; never raises, even at the ends of the calendar."""
    try:
        local = moment.astimezone() if moment.tzinfo else moment
    except (OverflowError, ValueError, OSError):
        # Year 9999 west of UTC has no local time within datetime's range (OverflowError), and
        # some platforms cannot convert before 1970 (OSError): shown in its own timezone then.
        local = moment
    joiner = " à " if lang is Lang.FR else " at "
    return f"{format_date(local.date(), lang)}{joiner}{local:%H:%M}"


def format_percent(share: float, lang: Lang = Lang.FR) -> str:
    """A share as a percentage with one decimal: "30,6 %" in French (no-break space), "30.6%"."""
    text = f"{share * 100:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    if share and text == "0":
        text = "< 0.1"  # a few records out of millions are not "none"
    if lang is Lang.FR:
        return text.replace(".", ",") + "\u00a0%"
    return text + "%"


def format_decimal(value: float, lang: Lang = Lang.FR, digits: int = 3) -> str:
    """A number with up to `digits` decimals, comma-separated in French: 0,125."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang is Lang.FR else text


def format_duration(seconds: float, lang: Lang = Lang.FR) -> str:
    """A time left as people say it: "45 s", "3 min 20 s", "2 h 05 min" (the same in English)."""
    total = max(round(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
