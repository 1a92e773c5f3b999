"""What a step screen shows under "what is checked": one line per rule, passed or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    key: str  # catalogue key of the rule's sentence
    ok: bool
    params: dict[str, Any] = field(default_factory=dict)


def all_ok(checks: list[Check]) -> bool:
    return all(check.ok for check in checks)
