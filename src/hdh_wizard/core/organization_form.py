"""The form that creates an organization on data.gouv.fr, and what it must hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hdh_wizard.core.checks import Check

# udata's Organization model: acronym max_length=128; name and description required.
ACRONYM_MAX = 128
DESCRIPTION_MIN = 40  # our advice, not udata's: "an organization described gains visibility"


@dataclass(frozen=True)
class OrganizationForm:
    name: str = ""
    acronym: str = ""
    description: str = ""
    url: str = ""

    def to_outputs(self) -> dict[str, str]:
        return {
            "name": self.name,
            "acronym": self.acronym,
            "description": self.description,
            "url": self.url,
        }

    @classmethod
    def from_outputs(cls, data: Mapping[str, Any]) -> OrganizationForm:
        def text(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        return cls(text("name"), text("acronym"), text("description"), text("url"))


def check_organization_form(form: OrganizationForm) -> list[Check]:
    """The problems that would make the creation fail or the organization poorly described."""
    problems: list[Check] = []
    if not form.name.strip():
        problems.append(Check("organization.problem.name", False))
    if len(form.acronym.strip()) > ACRONYM_MAX:
        problems.append(Check("organization.problem.acronym", False, {"max": ACRONYM_MAX}))
    if len(form.description.strip()) < DESCRIPTION_MIN:
        problems.append(Check("organization.problem.description", False, {"min": DESCRIPTION_MIN}))
    url = form.url.strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(Check("organization.problem.url", False))
    return problems
