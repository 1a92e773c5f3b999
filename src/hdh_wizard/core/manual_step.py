"""Steps the partner does outside the wizard for now, recorded with a note and a confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hdh_wizard.core.checks import Check


@dataclass(frozen=True)
class ManualStepForm:
    note: str = ""
    confirmed: bool = False

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> ManualStepForm:
        return cls(str(outputs.get("note", "")), bool(outputs.get("confirmed", False)))


def check_manual_step(form: ManualStepForm) -> list[Check]:
    return [
        Check("manual.check.note", len(form.note.strip()) >= 10),
        Check("manual.check.confirmed", form.confirmed),
    ]


def manual_outputs(form: ManualStepForm) -> dict[str, Any]:
    return {"note": form.note.strip(), "confirmed": form.confirmed}
