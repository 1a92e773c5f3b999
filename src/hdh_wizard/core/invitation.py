"""Who may be invited as co-administrator: an email address or a data.gouv.fr user id."""

from __future__ import annotations

import re
from typing import Literal

from hdh_wizard.core.checks import Check

# udata user ids are MongoDB ObjectIds: 24 hexadecimal characters.
_USER_ID = re.compile(r"^[0-9a-f]{24}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def invitee_kind(invitee: str) -> Literal["email", "user", "unknown"]:
    text = invitee.strip()
    if _EMAIL.match(text):
        return "email"
    if _USER_ID.match(text.lower()):
        return "user"
    return "unknown"


def check_invitee(invitee: str) -> list[Check]:
    if not invitee.strip():
        return [Check("coadmin.problem.empty", False)]
    if invitee_kind(invitee) == "unknown":
        return [Check("coadmin.problem.shape", False)]
    return []
