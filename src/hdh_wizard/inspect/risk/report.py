"""The identification-risk analysis as one value, and as JSON for `hdh-wizard risk --json`.

The written document (Markdown and HTML) is rendered from this value by `present/risk_document.py`.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from hdh_wizard import __version__
from hdh_wizard.inspect.risk.analysis import Criterion, TableRisk, TableScan
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule, generalise
from hdh_wizard.inspect.risk.identifiers import Finding, Role
from hdh_wizard.inspect.risk.levels import applied_loss
from hdh_wizard.inspect.risk.linkability import LinkReason
from hdh_wizard.inspect.risk.masking import mask
from hdh_wizard.inspect.risk.measures import SIZE_BUCKETS, RiskMeasures, classes_of_keys
from hdh_wizard.inspect.risk.slide_privacy import ImagePrivacyReport
from hdh_wizard.inspect.risk.tables import Table, column
from hdh_wizard.inspect.risk.verdicts import Verdict

AT_RISK_SHOWN = 10  # classes under the threshold listed in the report, smallest first
_HASH_CHUNK = 1 << 20
# Rules that read a value (an age, a date, a code) and leave it as it is when they cannot.
READING_RULES = frozenset(
    {Coarsening.AGE_5, Coarsening.AGE_10, Coarsening.MONTH, Coarsening.YEAR, Coarsening.DEPARTEMENT}
)


@dataclass(frozen=True)
class FileHash:
    path: str  # as the partner sees it
    size: int
    sha256: str


def hash_file(path: Path, display: str) -> FileHash:
    """The file's SHA-256, read in chunks (a table may be several GB). Raises OSError."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileHash(display, size, digest.hexdigest())


@dataclass(frozen=True)
class Provenance:
    """What made the analysis, so a reviewer can run it again: versions, and the inputs read."""

    tool: str
    python: str
    polars: str
    inputs: tuple[FileHash, ...] = ()

    @classmethod
    def current(cls, inputs: Sequence[FileHash] = ()) -> Provenance:
        return cls(__version__, platform.python_version(), pl.__version__, tuple(inputs))


@dataclass(frozen=True)
class RuleCount:
    """What one rule did to a column's values (empty values are left out of every count)."""

    rule: ColumnRule
    values: int  # non-empty values before the rule
    changed: int  # turned into another, non-empty value
    unread: int  # a reading rule could not read them: left as they are
    suppressed: int  # emptied (rare values suppressed) or removed with the column


@dataclass(frozen=True)
class RiskClass:
    key: tuple[str, ...]  # generalised values, masked for the identifying columns
    size: int


@dataclass(frozen=True)
class TableDetails:
    """Figures of one table the written report adds to the measures (see `describe_table`)."""

    table: str
    rule_counts: tuple[RuleCount, ...]
    key_columns: tuple[str, ...]  # the quasi-identifiers published, in the classes' keys
    classes_at_risk: tuple[RiskClass, ...]  # the smallest classes under the threshold
    classes_at_risk_total: int
    loss: float | None  # ARX's Loss of the rules applied; None when it has no hierarchy


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
    provenance: Provenance = field(default_factory=Provenance.current)
    details: tuple[TableDetails, ...] = ()
    # Justifications given for one table (a choices file may give them), beside the release's.
    table_justifications: dict[str, dict[Criterion, str]] = field(default_factory=dict)

    def details_of(self, table: str) -> TableDetails | None:
        return next((d for d in self.details if d.table == table), None)

    def copy_of(self, table: str) -> Replacement | None:
        """The transformed copy written for a table (a workbook's sheet: its file's copy)."""
        name = table.split(" › ")[0]
        for r in self.replacements:
            if name == r.source or r.source.endswith(f"/{name}") or name.endswith(f"/{r.source}"):
                return r
        return None

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
        "no_person": choice.no_person.strip() or None,  # declared: the table describes no one
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


# --- the report's extra figures, from the data ----------------------------------------------------


def describe_table(table: Table, risk: TableRisk, shown: int = AT_RISK_SHOWN) -> TableDetails:
    """Per rule, the values changed, unread and suppressed; the smallest classes under the
    threshold (keys masked where a column identifies), fetched by the keys the measure kept;
    ARX's Loss of the rules. At most a few streaming passes over the table (one per rule's
    column for the Loss), memory flat whatever its size or number of classes."""
    frame = table.frame
    choice = risk.choice
    counts = _rule_counts(frame, choice.rules)
    kept = tuple(c for c in choice.quasi if c not in choice.dropped)
    published = generalise(frame, choice.rules)
    classes: tuple[RiskClass, ...] = ()
    total = 0
    measured = risk.final
    if kept and measured.small_classes:
        # The measure kept the smallest classes' keys: only their records are read again.
        small = classes_of_keys(published, kept, measured.smallest)
        total = measured.small_classes
        smallest = small.sort(["n", *(f"k{i}" for i in range(len(kept)))], nulls_last=True)
        masked = identifying_columns(risk)
        classes = tuple(
            RiskClass(
                tuple(_shown(row[f"k{i}"], name in masked) for i, name in enumerate(kept)),
                int(row["n"]),
            )
            for row in smallest.head(shown).iter_rows(named=True)
        )
    try:
        loss = applied_loss(frame, choice.quasi, choice.rules)
    except ValueError:
        loss = None
    return TableDetails(table.name, counts, kept, classes, total, loss)


def identifying_columns(risk: TableRisk) -> frozenset[str]:
    """Columns whose values are never written: proposed or chosen as direct identifiers, found
    to hold identifying content after the rules, or linking (persistent codes, exact dates, fine
    geography)."""
    scan = risk.scan
    found = {c for c, role in scan.roles.items() if role is Role.DIRECT}
    found |= {f.column for f in risk.published_findings}
    found |= {x.column for x in risk.links if x.reason in _LINKING}
    return frozenset(found)


_LINKING = frozenset({LinkReason.PERSISTENT_ID, LinkReason.EXACT_DATE, LinkReason.FINE_GEOGRAPHY})


def _shown(value: str | None, identifying: bool) -> str:
    if value is None:
        return ""
    return mask(value) if identifying else value


def _rule_counts(frame: pl.LazyFrame, rules: Sequence[ColumnRule]) -> tuple[RuleCount, ...]:
    """One pass: each rule's column is copied before the rules run, then compared."""
    if not rules:
        return ()
    copies = {f"__hdh_before_{i}": r.column for i, r in enumerate(rules)}
    with_copies = frame.with_columns(
        column(frame, name).cast(pl.String).alias(copy) for copy, name in copies.items()
    )
    after = generalise(with_copies, rules)
    stats: list[pl.Expr] = []
    for i, rule in enumerate(rules):
        before = pl.col(f"__hdh_before_{i}")
        present = before.is_not_null() & (before.str.strip_chars() != "")
        stats.append(present.sum().alias(f"v{i}"))
        if rule.coarsening is Coarsening.DROP:
            continue
        now = column(after, rule.column).cast(pl.String)
        same = now.eq_missing(before)
        emptied = now.is_null() | (now.str.strip_chars() == "")
        stats.append((present & ~same & ~emptied).sum().alias(f"c{i}"))
        stats.append((present & emptied).sum().alias(f"s{i}"))
        if rule.coarsening in READING_RULES:
            stats.append((present & same).sum().alias(f"u{i}"))
    row = after.select(stats).collect(engine="streaming").row(0, named=True)
    result = []
    for i, rule in enumerate(rules):
        values = int(row[f"v{i}"] or 0)
        if rule.coarsening is Coarsening.DROP:
            result.append(RuleCount(rule, values, 0, 0, values))
            continue
        result.append(
            RuleCount(
                rule,
                values,
                int(row[f"c{i}"] or 0),
                int(row.get(f"u{i}") or 0),
                int(row[f"s{i}"] or 0),
            )
        )
    return tuple(result)


def details_to_json(details: TableDetails) -> dict[str, Any]:
    return {
        "rules": [
            {
                **c.rule.to_state(),
                "values": c.values,
                "changed": c.changed,
                "unread": c.unread,
                "suppressed": c.suppressed,
            }
            for c in details.rule_counts
        ],
        "classes_at_risk": {
            "columns": list(details.key_columns),
            "total": details.classes_at_risk_total,
            "smallest": [{"key": list(c.key), "size": c.size} for c in details.classes_at_risk],
        },
        "information_loss": None if details.loss is None else round(details.loss, 10),
    }


def provenance_to_json(
    provenance: Provenance, replacements: Sequence[Replacement]
) -> dict[str, Any]:
    return {
        "tool": f"hdh-wizard {provenance.tool}",
        "python": provenance.python,
        "polars": provenance.polars,
        "inputs": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in provenance.inputs],
        "outputs": [{"path": r.display, "size": r.size, "sha256": r.sha256} for r in replacements],
    }
