"""The partner's choices as a file: what `hdh-wizard risk --choices FILE` replays.

The written report embeds the same JSON block (`choices_to_json`), so a reviewer can run the
analysis again from the report alone and find the same figures. Per table: the quasi-identifiers,
the sensitive attributes, the threshold, the generalisation rules (as `ColumnRule.to_state()`
gives them), and optionally the justifications of that table; at the top, the justifications of
the release, per criterion (`singling_out`, `linkability`, `inference`).

    {"format": "hdh-wizard/risk-choices", "version": 1,
     "tables": [{"table": "donnees/cohorte.csv", "quasi_identifiers": ["age"], "sensitive": [],
                 "threshold": 11, "rules": [{"column": "age", "rule": "age_10"}]}],
     "justifications": {"inference": "…"}}

Pure: parsing and checking only, every fault raises `HdhWizardError` with a key below.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.risk.analysis import Choice, Criterion, TableRisk
from hdh_wizard.inspect.risk.generalise import rule_from_state
from hdh_wizard.inspect.risk.measures import DEFAULT_THRESHOLD, check_threshold
from hdh_wizard.inspect.risk.step import MIN_JUSTIFICATION

FORMAT = "hdh-wizard/risk-choices"
VERSION = 1

# Catalogue keys of the errors raised here (messages in i18n/messages/risk_cli_search.yaml).
ERROR_UNREADABLE = "risk.choices.error.unreadable"  # file, detail
ERROR_JSON = "risk.choices.error.json"  # file, line, column
ERROR_SHAPE = "risk.choices.error.shape"  # file
ERROR_FORMAT = "risk.choices.error.format"  # file, found, expected
ERROR_NAMES = "risk.choices.error.names"  # file, where
ERROR_TEXT = "risk.choices.error.text"  # file, where
ERROR_THRESHOLD = "risk.choices.error.threshold"  # file, where, value
ERROR_RULE = "risk.choices.error.rule"  # file, where
ERROR_CRITERION = "risk.choices.error.criterion"  # file, where, value, known
ERROR_DUPLICATE = "risk.choices.error.duplicate"  # file, table


@dataclass(frozen=True)
class TableChoices:
    table: str
    choice: Choice
    justifications: Mapping[Criterion, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChoicesFile:
    tables: tuple[TableChoices, ...]
    justifications: Mapping[Criterion, str] = field(default_factory=dict)  # the release's

    def for_table(self, name: str) -> TableChoices | None:
        """The entry of a table: by its exact name, else by a unique entry whose name ends the
        same way (a report written in another folder names `donnees/x.csv`, run as `x.csv`)."""
        for entry in self.tables:
            if entry.table == name:
                return entry
        ends = [
            e for e in self.tables if e.table.endswith("/" + name) or name.endswith("/" + e.table)
        ]
        return ends[0] if len(ends) == 1 else None

    def justification(self, table: str, criterion: Criterion) -> str:
        """The table's own justification of a criterion, else the release's."""
        entry = self.for_table(table)
        own = entry.justifications.get(criterion, "").strip() if entry else ""
        return own or self.justifications.get(criterion, "").strip()


@dataclass(frozen=True)
class Missing:
    """A criterion not excluded whose justification is absent or too short."""

    criterion: Criterion
    table: str | None  # None: the release as a whole (an image still identifying)
    length: int  # characters of the justification found (0: none)


def read_choices(path: Path) -> ChoicesFile:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        detail = getattr(error, "strerror", None) or type(error).__name__
        raise HdhWizardError(ERROR_UNREADABLE, file=str(path), detail=detail) from error
    return parse_choices(text, str(path))


def parse_choices(text: str, source: str) -> ChoicesFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise HdhWizardError(
            ERROR_JSON, file=source, line=error.lineno, column=error.colno
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
        raise HdhWizardError(ERROR_SHAPE, file=source)
    declared = data.get("format", FORMAT), data.get("version", VERSION)
    if declared != (FORMAT, VERSION):
        raise HdhWizardError(
            ERROR_FORMAT, file=source, found=f"{declared[0]} {declared[1]}", expected=FORMAT
        )
    tables: list[TableChoices] = []
    seen: set[str] = set()
    for index, item in enumerate(data["tables"]):
        where = f"tables[{index}]"
        if not isinstance(item, dict):
            raise HdhWizardError(ERROR_SHAPE, file=source)
        name = _text(item.get("table"), source, f"{where}.table")
        if not name.strip():
            raise HdhWizardError(ERROR_TEXT, file=source, where=f"{where}.table")
        if name in seen:
            raise HdhWizardError(ERROR_DUPLICATE, file=source, table=name)
        seen.add(name)
        tables.append(
            TableChoices(
                name,
                _choice(item, source, where),
                _justifications(item.get("justifications", {}), source, f"{where}.justifications"),
            )
        )
    release = _justifications(data.get("justifications", {}), source, "justifications")
    return ChoicesFile(tuple(tables), release)


def _text(value: object, source: str, where: str) -> str:
    if not isinstance(value, str):
        raise HdhWizardError(ERROR_TEXT, file=source, where=where)
    return value


def _names(value: object, source: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise HdhWizardError(ERROR_NAMES, file=source, where=where)
    return tuple(dict.fromkeys(value))


def _choice(item: Mapping[str, Any], source: str, where: str) -> Choice:
    quasi = _names(item.get("quasi_identifiers", []), source, f"{where}.quasi_identifiers")
    sensitive = _names(item.get("sensitive", []), source, f"{where}.sensitive")
    raw = item.get("threshold", DEFAULT_THRESHOLD)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise HdhWizardError(
            ERROR_THRESHOLD, file=source, where=f"{where}.threshold", value=str(raw)
        )
    try:
        threshold = check_threshold(raw)
    except HdhWizardError:
        raise HdhWizardError(
            ERROR_THRESHOLD, file=source, where=f"{where}.threshold", value=str(raw)
        ) from None
    rules_data = item.get("rules", [])
    if not isinstance(rules_data, list):
        raise HdhWizardError(ERROR_RULE, file=source, where=f"{where}.rules")
    rules = []
    for number, rule in enumerate(rules_data):
        rule_where = f"{where}.rules[{number}]"
        if not isinstance(rule, dict) or not isinstance(rule.get("column"), str):
            raise HdhWizardError(ERROR_RULE, file=source, where=rule_where)
        try:
            rules.append(rule_from_state(rule))
        except HdhWizardError:
            raise HdhWizardError(ERROR_RULE, file=source, where=rule_where) from None
    # "This table describes no person", with its reason (verdicts.no_person).
    no_person = item.get("no_person") or ""
    if not isinstance(no_person, str):
        raise HdhWizardError(ERROR_TEXT, file=source, where=f"{where}.no_person")
    return Choice(quasi, sensitive, threshold, tuple(rules), no_person)


def _justifications(value: object, source: str, where: str) -> dict[Criterion, str]:
    if not isinstance(value, dict):
        raise HdhWizardError(ERROR_TEXT, file=source, where=where)
    known = {c.value: c for c in Criterion}
    found: dict[Criterion, str] = {}
    for key, text in value.items():
        if key not in known:
            raise HdhWizardError(
                ERROR_CRITERION, file=source, where=where, value=str(key), known=", ".join(known)
            )
        found[known[key]] = _text(text, source, f"{where}.{key}")
    return found


def missing_justifications(
    risks: Sequence[TableRisk], choices: ChoicesFile, images_left: bool = False
) -> list[Missing]:
    """Each criterion a table does not exclude and the file does not justify (for that table, or
    for the release), at least MIN_JUSTIFICATION characters; images still identifying need the
    release's justification of singling out."""
    missing: list[Missing] = []
    for risk in risks:
        for criterion in Criterion:
            if risk.excluded(criterion):
                continue
            text = choices.justification(risk.scan.table, criterion)
            if len(text) < MIN_JUSTIFICATION:
                missing.append(Missing(criterion, risk.scan.table, len(text)))
    if images_left:
        text = choices.justifications.get(Criterion.SINGLING_OUT, "").strip()
        if len(text) < MIN_JUSTIFICATION:
            missing.append(Missing(Criterion.SINGLING_OUT, None, len(text)))
    return missing


def choices_to_json(
    risks: Sequence[TableRisk],
    justifications: Mapping[Criterion, str] | None = None,
    per_table: Mapping[str, Mapping[Criterion, str]] | None = None,
) -> dict[str, Any]:
    """The choices of every table, as `parse_choices` reads them back."""
    tables: list[dict[str, Any]] = []
    for risk in risks:
        choice = risk.choice
        entry: dict[str, Any] = {
            "table": risk.scan.table,
            "quasi_identifiers": list(choice.quasi),
            "sensitive": list(choice.sensitive),
            "threshold": choice.threshold,
            "rules": [r.to_state() for r in choice.rules],
        }
        if choice.declares_no_person:
            entry["no_person"] = choice.no_person
        own = (per_table or {}).get(risk.scan.table, {})
        if any(t.strip() for t in own.values()):
            entry["justifications"] = {c.value: t for c, t in own.items() if t.strip()}
        tables.append(entry)
    release = {c.value: t for c, t in (justifications or {}).items() if t.strip()}
    return {"format": FORMAT, "version": VERSION, "tables": tables, "justifications": release}
