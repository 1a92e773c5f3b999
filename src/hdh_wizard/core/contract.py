"""The contract with the Health Data Hub (step 1 of both routes): what is recorded and checked."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from hdh_wizard.core.checks import Check

# The Health Data Hub was created by the law of 24 July 2019: no contract with it predates that.
HDH_CREATED = date(2019, 7, 24)
_DAY_FIRST = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


@dataclass(frozen=True)
class ContractForm:
    reference: str = ""
    signed_on: str = ""  # as typed: JJ/MM/AAAA or AAAA-MM-JJ
    partner_signatory: str = ""
    hdh_signatory: str = ""
    other_signatories: str = ""
    confirmed: bool = False

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> ContractForm:
        known = {k: outputs[k] for k in cls.__dataclass_fields__ if k in outputs}
        form = cls(**known)
        # Stored dates are ISO; show them as the user types them, day first.
        parsed = parse_date(form.signed_on)
        if parsed is not None:
            form = ContractForm(**{**asdict(form), "signed_on": f"{parsed:%d/%m/%Y}"})
        return form


def parse_date(text: str) -> date | None:
    """A day-first French date (28/11/2026) or an ISO one; None when not a real date."""
    match = _DAY_FIRST.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        match = _ISO.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        return None
    return None


def check_contract(form: ContractForm, today: date) -> list[Check]:
    signed = parse_date(form.signed_on)
    partner = form.partner_signatory.strip()
    hdh = form.hdh_signatory.strip()
    return [
        Check("contract.check.reference", len(form.reference.strip()) >= 3),
        Check("contract.check.date_valid", signed is not None),
        Check(
            "contract.check.date_range",
            signed is not None and HDH_CREATED <= signed <= today,
            {"earliest": f"{HDH_CREATED:%d/%m/%Y}"},
        ),
        Check("contract.check.partner_signatory", bool(partner)),
        Check("contract.check.hdh_signatory", bool(hdh)),
        Check(
            "contract.check.distinct_signatories",
            bool(partner) and bool(hdh) and partner.casefold() != hdh.casefold(),
        ),
        Check("contract.check.confirmed", form.confirmed),
    ]


def contract_outputs(form: ContractForm) -> dict[str, Any]:
    """What the state file keeps: the date in ISO form, text trimmed."""
    signed = parse_date(form.signed_on)
    return {
        "reference": form.reference.strip(),
        "signed_on": signed.isoformat() if signed else form.signed_on.strip(),
        "partner_signatory": form.partner_signatory.strip(),
        "hdh_signatory": form.hdh_signatory.strip(),
        "other_signatories": form.other_signatories.strip(),
        "confirmed": form.confirmed,
    }
