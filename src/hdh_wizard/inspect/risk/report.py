"""The identification-risk analysis as one value, and as JSON for `hdh-wizard risk --json`.

The written document (Markdown and HTML) is rendered from this value by `ui/risk_document.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hdh_wizard.inspect.risk.analysis import Criterion, TableRisk, TableScan
from hdh_wizard.inspect.risk.identifiers import Finding
from hdh_wizard.inspect.risk.measures import SIZE_BUCKETS, RiskMeasures
from hdh_wizard.inspect.risk.slide_privacy import ImagePrivacyReport
from hdh_wizard.inspect.risk.verdicts import Verdict


@dataclass(frozen=True)
class Attestation:
    """The partner's organization takes responsibility for the anonymity of the data."""

    name: str
    role: str
    organization: str
    signed_on: date

    def to_state(self) -> dict[str, str]:
        return {
            "name": self.name,
            "role": self.role,
            "organization": self.organization,
            "date": self.signed_on.isoformat(),
        }


@dataclass(frozen=True)
class Replacement:
    """A copy written to publish/ (a transformed table, a cleaned image) to publish instead."""

    source: str  # display path of the original
    output: Path
    size: int
    sha256: str
    source_size: int

    @property
    def display(self) -> str:
        """Where the copy is, as the partner sees it: `publish/<name>`."""
        return f"{self.output.parent.name}/{self.output.name}"


@dataclass(frozen=True)
class RiskReport:
    release: str
    generated_at: datetime
    tables: tuple[TableRisk, ...]
    images: tuple[ImagePrivacyReport, ...] = ()
    replacements: tuple[Replacement, ...] = ()
    justifications: dict[Criterion, str] = field(default_factory=dict)
    attestation: Attestation | None = None

    def excluded(self, criterion: Criterion) -> bool:
        """A criterion is excluded for the release when it is for every table, and, for singling
        out, when no image published still carries a label or an identifying text."""
        if criterion is Criterion.SINGLING_OUT and self.images_left:
            return False
        return all(t.excluded(criterion) for t in self.tables)

    @property
    def images_left(self) -> tuple[str, ...]:
        """Images with identifying content and no cleaned copy to publish instead."""
        return tuple(i.path for i in self.images if i.findings and i.path not in self.replaced)

    @property
    def replaced(self) -> frozenset[str]:
        return frozenset(r.source for r in self.replacements)


def measures_to_json(measures: RiskMeasures) -> dict[str, Any]:
    buckets = [
        {"from": low, "to": high, "records": records}
        for (low, high), records in zip(SIZE_BUCKETS, measures.size_histogram, strict=True)
    ]
    return {
        "records": measures.records,
        "quasi_identifiers": list(measures.quasi_identifiers),
        "threshold": measures.threshold,
        "classes": measures.classes,
        "k": measures.k,
        "small_classes": measures.small_classes,
        "records_in_small_classes": measures.records_in_small,
        "share_in_small_classes": round(measures.share_in_small, 6),
        "unique_records": measures.unique_records,
        "share_unique": round(measures.share_unique, 6),
        "average_prosecutor_risk": round(measures.average_risk, 6),
        "max_prosecutor_risk": round(measures.max_risk, 6),
        "class_sizes": buckets,
        "l_diversity": [
            {
                "column": d.column,
                "smallest_l": d.smallest_l,
                "classes_l1": d.classes_l1,
                "records_l1": d.records_l1,
                "smallest_entropy_l": round(d.smallest_entropy_l, 6),
                "largest_share": round(d.largest_share, 6),
                "confidence": d.confidence,
                "records_inferable": max(d.records_dominated, d.records_l1),
            }
            for d in measures.diversity
        ],
    }


def findings_to_json(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Values never appear in clear: finding examples are masked at the source."""
    return [
        {
            "column": f.column,
            "rule": f.rule.value,
            "matches": f.matches,
            "values": f.values,
            "examples": list(f.examples),
        }
        for f in findings
    ]


def scan_to_json(scan: TableScan) -> dict[str, Any]:
    """What is known of a table that could not be measured: its columns and what identifies."""
    return {
        "table": scan.table,
        "columns": [{"name": c, "proposed_role": scan.roles[c].value} for c in scan.columns],
        "findings": findings_to_json(scan.findings),
    }


def table_to_json(risk: TableRisk) -> dict[str, Any]:
    """Values never appear in clear: finding examples are masked at the source."""
    scan, choice = risk.scan, risk.choice
    return {
        "table": scan.table,
        "columns": [{"name": c, "proposed_role": scan.roles[c].value} for c in scan.columns],
        "findings": findings_to_json(scan.findings),
        "quasi_identifiers": list(choice.quasi),
        "sensitive": list(choice.sensitive),
        "threshold": choice.threshold,
        "rules": [r.to_state() for r in choice.rules],
        "original": measures_to_json(risk.original),
        "generalised": measures_to_json(risk.published) if risk.published else None,
        "direct_identifiers_left": list(risk.direct_left),
        "linkability": [
            {"column": link.column, "reason": link.reason.value, "share": round(link.share, 4)}
            for link in risk.links
        ],
        "guard": (
            {
                "columns": list(risk.guard.quasi_identifiers),
                "unique_records": risk.guard.unique_records,
                "share_unique": round(risk.guard.share_unique, 6),
            }
            if risk.guard
            else None
        ),
        "criteria": {
            c.value: ("excluded" if risk.excluded(c) else "not_excluded") for c in Criterion
        },
        "verdicts": {c.value: _verdict_json(risk.verdict(c)) for c in Criterion},
    }


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    """A verdict's reasons as catalogue keys and parameters: the same in every language."""
    return {
        "excluded": verdict.excluded,
        "reasons": [{"key": r.key, **r.params} for r in verdict.reasons],
        "warnings": [{"key": r.key, **r.params} for r in verdict.warnings],
        "figures": dict(verdict.figures),
    }
