"""Sizes and dates in the user's conventions: "1,2 Go" and "28 novembre 2026" in French."""

from __future__ import annotations

from datetime import date, datetime

from hdh_wizard.i18n.catalogue import Lang

_UNITS = {
    Lang.FR: ("octets", "ko", "Mo", "Go", "To"),
    Lang.EN: ("bytes", "kB", "MB", "GB", "TB"),
}
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


def format_size(num_bytes: int, lang: Lang = Lang.FR) -> str:
    """Decimal units (1 Go = 10^9 octets), as the guide's threshold is stated."""
    units = _UNITS[lang]
    if num_bytes < 1000:
        return f"{num_bytes} {units[0]}"
    value = float(num_bytes)
    unit = units[0]
    for unit in units[1:]:
        value /= 1000
        if value < 1000 or unit == units[-1]:
            break
    text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
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
    local = moment.astimezone() if moment.tzinfo else moment
    joiner = " à " if lang is Lang.FR else " at "
    return f"{format_date(local.date(), lang)}{joiner}{local:%H:%M}"
