"""`hdh-wizard risk PATH…`: the identification-risk analysis of the anonymity step, headless.

Exit code 0 when the three criteria are excluded for every table and no image carries
identifying content, 1 when something needs a measure or a justification, 2 on a usage error
(an unknown column, a bad threshold or rule, a faulty hierarchy or choices file).

`--search` looks for the least generalisation meeting the threshold (and, on the sensitive
attributes, the inference bound), as ARX does; `--population N` shows the population view;
`--choices FILE` replays the choices and justifications the report embeds: then a criterion not
excluded and not justified gives exit code 1, naming the missing justification.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import format_count, format_decimal, format_percent
from hdh_wizard.inspect.inspection import inventory
from hdh_wizard.inspect.kinds import FileKind, sniff_kind
from hdh_wizard.inspect.risk.analysis import (
    Choice,
    Criterion,
    TableRisk,
    TableScan,
    assess,
    check_choice,
    resolve_names,
    scan_table,
)
from hdh_wizard.inspect.risk.choices import (
    ChoicesFile,
    Missing,
    missing_justifications,
    read_choices,
)
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule, generalise
from hdh_wizard.inspect.risk.hierarchies import Hierarchy, read_hierarchy_csv
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.inspect.risk.levels import Levels
from hdh_wizard.inspect.risk.measures import (
    DEFAULT_CONFIDENCE,
    DEFAULT_THRESHOLD,
    check_threshold,
)
from hdh_wizard.inspect.risk.population import (
    PopulationUniqueness,
    class_size_histogram,
    population_uniqueness,
)
from hdh_wizard.inspect.risk.report import (
    FileHash,
    Provenance,
    RiskReport,
    TableDetails,
    describe_table,
    details_to_json,
    hash_file,
    provenance_to_json,
    scan_to_json,
    table_to_json,
)
from hdh_wizard.inspect.risk.search import NodeResult
from hdh_wizard.inspect.risk.slide_privacy import ImagePrivacyReport, scan_image_privacy
from hdh_wizard.inspect.risk.solutions import TableSearch, search_table
from hdh_wizard.inspect.risk.step import MIN_JUSTIFICATION
from hdh_wizard.inspect.risk.tables import TABLE_SUFFIXES, Table, is_table, open_tables
from hdh_wizard.phases import phase
from hdh_wizard.present.risk_document import write_documents
from hdh_wizard.present.risk_presenters import (
    criterion_text,
    finding_text,
    image_finding_text,
    rule_text,
    summary_lines,
    verdict_lines,
)

USAGE_ERROR = 2
LOSS_MEASURE = "ARX Loss (Metric.createLossMetric: MDNMLoss, gs-factor 0.5, geometric mean)"


@dataclass(frozen=True)
class SearchOptions:
    budget: float = 0.0
    hierarchies: Mapping[str, tuple[Hierarchy, str]] = field(default_factory=dict)


def parse_budget(text: str) -> float:
    """A share of records: "0.02", "0,02", "2 %" or "2%"; from 0 to less than 1."""
    cleaned = text.strip().replace(",", ".").replace("\u00a0", " ")
    percent = cleaned.endswith("%")
    try:
        value = float(cleaned.rstrip("%").strip())
    except ValueError:
        raise HdhWizardError("risk.search.error.budget_text", value=text) from None
    if percent:
        value /= 100
    if not math.isfinite(value) or not 0 <= value < 1:
        raise HdhWizardError("risk.search.error.budget_text", value=text)
    return value


def parse_hierarchy_options(options: Sequence[str]) -> dict[str, tuple[Hierarchy, str]]:
    """`column=file.csv` options, each file read and checked (an ARX hierarchy)."""
    found: dict[str, tuple[Hierarchy, str]] = {}
    for option in options:
        name, equals, file = option.partition("=")
        if not equals or not name.strip() or not file.strip():
            raise HdhWizardError("risk.search.error.hierarchy_option", value=option)
        name = name.strip()
        if name in found:
            raise HdhWizardError("risk.search.error.hierarchy_twice", column=name)
        path = Path(file.strip()).expanduser()
        found[name] = (read_hierarchy_csv(path, name), path.name)
    return found


def parse_population(text: str) -> int:
    cleaned = "".join(text.split()).replace("_", "")
    if not cleaned.isdigit() or int(cleaned) < 1:
        raise HdhWizardError("risk.population.error.number", value=text)
    return int(cleaned)


def rule_option(rule: ColumnRule) -> str:
    """A rule as the `--rule` option that gives it."""
    spec = rule.coarsening.value
    if rule.coarsening.needs_count:
        spec += f":{rule.min_count}"
    return f"--rule {shlex.quote(f'{rule.column}={spec}')}"


def parse_columns(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    # csv rules: a name holding a comma is given in quotes, "age, en années".
    fields = text.split(",")
    if '"' in text:
        reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
        with contextlib.suppress(csv.Error):  # a quote left open: split as if there were none
            fields = [field for row in reader for field in row]
    names = (c.strip() for c in fields if c.strip())
    return tuple(dict.fromkeys(names))  # a column named twice is one column


def parse_rule(text: str) -> ColumnRule:
    """`column=rule` or `column=rule:count` (group_rare:10)."""
    column, _, spec = text.rpartition("=")
    name, _, count = spec.partition(":")
    try:
        coarsening = Coarsening(name.strip())
        min_count = int(count) if count else (5 if coarsening.needs_count else 0)
    except ValueError:
        raise HdhWizardError("risk.error.rule", rule=text) from None
    if not column.strip():
        raise HdhWizardError("risk.error.rule", rule=text)
    return ColumnRule(column.strip(), coarsening, min_count)


def run_risk(
    cat: Catalogue,
    paths: list[Path],
    *,
    quasi: str | None,
    sensitive: str | None,
    threshold: str | None,
    rules: list[str],
    as_json: bool,
    report_dir: Path | None,
    search_lattice: bool = False,
    max_suppression: str | None = None,
    hierarchies: Sequence[str] = (),
    population: str | None = None,
    choices_path: Path | None = None,
) -> int:
    try:
        limit = check_threshold(threshold) if threshold is not None else DEFAULT_THRESHOLD
        parsed_rules = tuple(parse_rule(r) for r in rules)
        if not search_lattice:
            for option, given in (
                ("--max-suppression", max_suppression is not None),
                ("--hierarchy", bool(hierarchies)),
            ):
                if given:
                    raise HdhWizardError("risk.search.error.needs_search", option=option)
        options = SearchOptions(
            parse_budget(max_suppression) if max_suppression is not None else 0.0,
            parse_hierarchy_options(hierarchies),
        )
        people = parse_population(population) if population is not None else None
        choices: ChoicesFile | None = None
        if choices_path is not None:
            given_options = [
                name
                for name, value in (
                    ("--qi", quasi),
                    ("--sensitive", sensitive),
                    ("--threshold", threshold),
                    ("--rule", rules),
                )
                if value
            ]
            if given_options:
                raise HdhWizardError(
                    "risk.choices.error.with_options", options=", ".join(given_options)
                )
            choices = read_choices(choices_path)
    except HdhWizardError as error:
        print(f"hdh-wizard: {error.message(cat)}", file=sys.stderr)
        return USAGE_ERROR
    extras = as_json or report_dir is not None  # the per-rule counts, classes at risk, hashes
    entries, skipped = inventory(paths, Path.cwd())
    errors: list[str] = []
    # Every input file is in the JSON document: measured (tables, images), or here with the
    # reason it was not, and what identifies in it when the table could be read.
    not_assessed: list[dict[str, Any]] = []

    def fail(path: str, message: str) -> None:
        errors.append(message)
        not_assessed.append({"path": path, "table": None, "reason": message, "findings": []})

    for item in skipped:
        reason = cat.t(f"inspect.skipped.{item.reason}")
        fail(item.display, cat.t("inspect.report.skipped", path=item.display, reason=reason))
    risks: list[TableRisk] = []
    images: list[ImagePrivacyReport] = []
    details: list[TableDetails] = []
    searches: dict[str, dict[str, Any]] = {}
    populations: dict[str, dict[str, Any]] = {}
    hashes: list[FileHash] = []
    usage_error = False
    for entry in entries:
        try:
            if extras:
                with phase("checksums"):
                    hashes.append(hash_file(entry.path, entry.display))
            kind = sniff_kind(entry.path)
            if kind in (FileKind.TIFF, FileKind.BIGTIFF):
                image = scan_image_privacy(entry.path, entry.display)
                images.append(image)
                if not as_json:
                    print(_image_text(cat, image), flush=True)
            elif is_table(entry.path):
                with open_tables(entry.path, entry.display) as tables:
                    for table in tables:
                        scan = scan_table(table)
                        given_quasi = _resolved(parse_columns(quasi), scan.columns)
                        given_sensitive = _resolved(parse_columns(sensitive), scan.columns)
                        choice = Choice(
                            quasi=_chosen(given_quasi, scan.with_role(Role.QUASI), given_sensitive),
                            sensitive=_chosen(
                                given_sensitive, scan.with_role(Role.SENSITIVE), given_quasi
                            ),
                            threshold=limit,
                            rules=parsed_rules,
                        )
                        try:
                            if choices is not None:
                                choice = _replayed(choices, scan.table, choices_path)
                            check_choice(scan, choice)
                        except HdhWizardError as error:
                            message = error.message(cat)
                            print(f"hdh-wizard: {message}", file=sys.stderr)
                            usage_error = True
                            # Not measured, but what identifies in it is still reported.
                            unmeasured = scan_to_json(scan)
                            not_assessed.append(
                                {"path": entry.display, "reason": message, **unmeasured}
                            )
                            if not as_json:
                                print(scan_text(cat, scan, message), flush=True)
                            continue
                        risk = assess(table, scan, choice)
                        risks.append(risk)
                        if not as_json:
                            print(table_text(cat, risk, choices), flush=True)
                        if extras:
                            with phase("report"):
                                details.append(describe_table(table, risk))
                        try:
                            if search_lattice:
                                outcome = run_search(table, risk, options)
                                searches[scan.table] = search_to_json(cat, outcome)
                                if not as_json:
                                    print(search_text(cat, outcome), flush=True)
                            if people is not None:
                                view = population_view(table, risk, people)
                                populations[scan.table] = population_to_json(view)
                                if not as_json:
                                    print(population_text(cat, view), flush=True)
                        except HdhWizardError as error:
                            print(f"hdh-wizard: {error.message(cat)}", file=sys.stderr)
                            usage_error = True
            elif entry.path.suffix.lower() in TABLE_SUFFIXES:
                # Named as a table but empty or binary: say so rather than leave it out.
                fail(
                    entry.display,
                    cat.t("risk.error.not_a_table", file=entry.display, kind=kind.value),
                )
            else:  # documentation, a PDF…: nothing to measure, said in the JSON document
                reason = cat.t("risk.report.not_analysed", file=entry.display, kind=kind.value)
                not_assessed.append(
                    {"path": entry.display, "table": None, "reason": reason, "findings": []}
                )
        except HdhWizardError as error:
            fail(entry.display, error.message(cat))
        except OSError as error:
            detail = error.strerror or type(error).__name__
            fail(
                entry.display,
                cat.t("risk.error.unreadable", file=entry.display, detail=detail),
            )
    report = RiskReport(
        release=", ".join(str(p) for p in paths),
        generated_at=datetime.now(UTC),
        tables=tuple(risks),
        images=tuple(images),
        justifications=dict(choices.justifications) if choices else {},
        provenance=Provenance.current(hashes),
        details=tuple(details),
        table_justifications=(
            {t.table: dict(t.justifications) for t in choices.tables if t.justifications}
            if choices
            else {}
        ),
    )
    for message in errors:  # files that could not be analysed are never silently left out
        print(f"hdh-wizard: {message}", file=sys.stderr)
    missing: list[Missing] = []
    if choices is not None and choices_path is not None:
        analysed = {r.scan.table for r in risks}
        for entry_choices in choices.tables:
            if not any(choices.for_table(t) is entry_choices for t in analysed):
                print(
                    "hdh-wizard: "
                    + cat.t(
                        "risk.choices.unused", file=str(choices_path), table=entry_choices.table
                    ),
                    file=sys.stderr,
                )
        missing = missing_justifications(risks, choices, bool(report.images_left))
        for gap in missing:
            print(f"hdh-wizard: {missing_text(cat, gap)}", file=sys.stderr)
        if risks and not missing and not usage_error and not as_json:
            print(cat.t("risk.choices.all_justified"))
    if as_json:
        document = _document(cat, report, errors, not_assessed)
        for item in document["tables"]:
            name = item["table"]
            if name in searches:
                item["search"] = searches[name]
            if name in populations:
                item["population"] = populations[name]
            found = report.details_of(name)
            if found is not None:
                item["details"] = details_to_json(found)
            if choices is not None:
                item["justifications"] = {
                    c.value: choices.justification(name, c) or None for c in Criterion
                }
        document["provenance"] = provenance_to_json(report.provenance, report.replacements)
        if choices is not None:
            document["missing_justifications"] = [
                {
                    "criterion": gap.criterion.value,
                    "table": gap.table,
                    "length": gap.length,
                    "text": missing_text(cat, gap),
                }
                for gap in missing
            ]
        print(json.dumps(document, ensure_ascii=False, indent=2))
    elif not risks and not images and not usage_error and not errors:
        print(cat.t("risk.report.nothing"))
    if report_dir is not None and (risks or images):
        for written in write_documents(report, report_dir, cat):
            # On stderr with --json, so that standard output stays one JSON document.
            print(
                cat.t("risk.report.written", path=str(written)),
                file=sys.stderr if as_json else sys.stdout,
            )
    if usage_error:
        return USAGE_ERROR
    assessed = bool(risks or images)
    if choices is not None:  # every criterion not excluded is justified: the step can go on
        return 0 if assessed and not errors and not missing else 1
    clean = assessed and all(report.excluded(c) for c in Criterion) and not errors
    return 0 if clean else 1


def _replayed(choices: ChoicesFile, table: str, source: Path | None) -> Choice:
    entry = choices.for_table(table)
    if entry is None:
        raise HdhWizardError("risk.choices.error.no_entry", file=str(source), table=table)
    return entry.choice


def missing_text(cat: Catalogue, gap: Missing) -> str:
    criterion = cat.t(f"risk.criterion.{gap.criterion.value}")
    if gap.table is None:
        return cat.t(
            "risk.choices.missing_release",
            criterion=criterion,
            length=gap.length,
            min=MIN_JUSTIFICATION,
        )
    return cat.t(
        "risk.choices.missing",
        criterion=criterion,
        table=gap.table,
        length=gap.length,
        min=MIN_JUSTIFICATION,
    )


# --- the automatic search ------------------------------------------------------------------------


def run_search(table: Table, risk: TableRisk, options: SearchOptions) -> TableSearch:
    """The least generalisation of the table's quasi-identifiers meeting the threshold and, on
    its sensitive attributes, the inference bound; the partner's rules on other columns kept."""
    return search_table(
        table, risk.choice, suppression=options.budget, hierarchies=options.hierarchies
    )


def level_text(cat: Catalogue, levels: Levels, level: int) -> str:
    if levels.kind is not None:
        coarsening = levels.rules[level]
        return cat.t(f"risk.search.level.{coarsening.value if coarsening else 'value'}")
    if level == 0:
        return cat.t("risk.search.level.value")
    key = "file_top" if level == levels.hierarchy.height - 1 else "file"
    return cat.t(f"risk.search.level.{key}", level=level, file=levels.source)


def levels_text(cat: Catalogue, outcome: TableSearch, node: NodeResult) -> str:
    pairs = (
        cat.t(
            "risk.search.level_pair", column=name, level=level_text(cat, outcome.levels[name], lv)
        )
        for name, lv in zip(outcome.result.quasi_identifiers, node.levels, strict=True)
    )
    return cat.t("risk.search.separator").join(pairs)


def _node_lines(cat: Catalogue, outcome: TableSearch, node: NodeResult) -> list[str]:
    lines = [
        cat.t(
            "risk.search.figures",
            loss=format_decimal(node.loss, cat.lang, 4),
            suppressed=format_count(node.suppressed),
            classes=format_count(node.classes),
            smallest=format_count(node.smallest),
        )
    ]
    rules = outcome.all_rules(node)
    if rules is None:
        files = ", ".join(sorted({lv.source for lv in outcome.levels.values() if lv.source}))
        lines.append(cat.t("risk.search.not_replayable", files=files))
    else:
        lines.append(
            cat.t("risk.search.replay", options=" ".join(rule_option(r) for r in rules) or "—")
        )
    if node.suppressed:
        lines.append(cat.t("risk.search.suppressed_note", count=format_count(node.suppressed)))
    return lines


def search_text(cat: Catalogue, outcome: TableSearch) -> str:
    result = outcome.result
    rules = result.rules
    inference = (
        cat.t(
            "risk.search.inference",
            columns=", ".join(outcome.sensitive),
            share=format_percent(DEFAULT_CONFIDENCE, cat.lang),
        )
        if rules.max_share < 1
        else cat.t("risk.search.no_inference")
    )
    budget = math.floor(rules.suppression * result.records)
    lines = [
        "  "
        + cat.t(
            "risk.search.title",
            threshold=rules.k,
            inference=inference,
            budget=format_count(budget),
            share=format_percent(rules.suppression, cat.lang),
        )
    ]
    if result.solutions:
        for rank, node in enumerate(result.solutions, start=1):
            lines.append(
                "    "
                + cat.t("risk.search.solution", rank=rank, levels=levels_text(cat, outcome, node))
            )
            lines.extend(f"       {line}" for line in _node_lines(cat, outcome, node))
    else:
        lines.append("    " + cat.t("risk.search.none"))
        if result.closest is not None:
            lines.append("      " + levels_text(cat, outcome, result.closest))
            lines.extend(f"       {line}" for line in _node_lines(cat, outcome, result.closest))
        lines.append("    " + cat.t("risk.search.none_remedy"))
    key = "risk.search.bounded" if result.bounded else "risk.search.optimal"
    lines.append(
        "  "
        + cat.t(
            key,
            evaluated=format_count(result.evaluated),
            lattice=format_count(result.lattice_size),
            settled=format_count(result.settled),
        )
    )
    return "\n".join(lines) + "\n"


def _node_json(cat: Catalogue, outcome: TableSearch, node: NodeResult) -> dict[str, Any]:
    rules = outcome.all_rules(node)
    quasi = outcome.result.quasi_identifiers
    return {
        "levels": {
            name: {
                "level": level,
                "rule": _level_rule_name(outcome.levels[name], level),
                "text": level_text(cat, outcome.levels[name], level),
            }
            for name, level in zip(quasi, node.levels, strict=True)
        },
        "text": levels_text(cat, outcome, node),
        "loss": node.loss,
        "loss_per_column": dict(zip(quasi, node.loss_per_column, strict=True)),
        "suppressed": node.suppressed,
        "classes": node.classes,
        "smallest_class": node.smallest,
        "rules": None if rules is None else [r.to_state() for r in rules],
        "options": None if rules is None else [rule_option(r) for r in rules],
    }


def _level_rule_name(levels: Levels, level: int) -> str | None:
    if levels.kind is None:
        return None
    coarsening = levels.rules[level]
    return coarsening.value if coarsening else None


def search_to_json(cat: Catalogue, outcome: TableSearch) -> dict[str, Any]:
    result = outcome.result
    return {
        "measure": LOSS_MEASURE,
        "rules": {
            "threshold": result.rules.k,
            "max_suppression": result.rules.suppression,
            "suppression_budget_records": math.floor(result.rules.suppression * result.records),
            "max_share": DEFAULT_CONFIDENCE if result.rules.max_share < 1 else None,
        },
        "hierarchies": {
            name: {
                "kind": lv.kind.value if lv.kind else "file",
                "source": lv.source or None,
                "levels": [_level_rule_name(lv, i) for i in range(lv.hierarchy.height)]
                if lv.kind
                else lv.hierarchy.height,
            }
            for name, lv in outcome.levels.items()
        },
        "optimal": result.optimal,
        "bounded": result.bounded,
        "evaluated": result.evaluated,
        "settled": result.settled,
        "lattice_size": result.lattice_size,
        "solutions": [_node_json(cat, outcome, n) for n in result.solutions],
        "closest": _node_json(cat, outcome, result.closest) if result.closest else None,
    }


# --- the population view -------------------------------------------------------------------------


def population_view(table: Table, risk: TableRisk, population: int) -> PopulationUniqueness:
    """Population uniqueness over the published quasi-identifiers (after the rules)."""
    choice = risk.choice
    kept = [c for c in choice.quasi if c not in choice.dropped]
    frame = generalise(table.frame, choice.rules)
    return population_uniqueness(class_size_histogram(frame, kept), population)


def population_text(cat: Catalogue, view: PopulationUniqueness) -> str:
    lines = [
        "  "
        + cat.t(
            "risk.population.title",
            records=format_count(view.records),
            population=format_count(view.population),
            fraction=format_percent(view.sampling_fraction, cat.lang),
        ),
        "    • "
        + cat.t(
            "risk.population.sample_uniques",
            count=format_count(view.sample_uniques),
            share=format_percent(view.sample_unique_share, cat.lang),
        ),
    ]
    for model, share in (("Pitman", view.pitman), ("Zayatz", view.zayatz)):
        if math.isfinite(share):
            text = cat.t(
                "risk.population.model",
                model=model,
                share=format_percent(share, cat.lang),
                count=format_count(round(share * view.population)),
            )
        else:
            text = cat.t("risk.population.no_estimate", model=model)
        lines.append(f"    • {text}")
    lines.append("    " + cat.t("risk.population.assumptions"))
    return "\n".join(lines) + "\n"


def population_to_json(view: PopulationUniqueness) -> dict[str, Any]:
    def share(value: float) -> float | None:
        return round(value, 8) if math.isfinite(value) else None

    return {
        "records": view.records,
        "population": view.population,
        "sampling_fraction": round(view.sampling_fraction, 8),
        "classes": view.classes,
        "sample_uniques": view.sample_uniques,
        "sample_unique_share": round(view.sample_unique_share, 8),
        "pitman_population_unique_share": share(view.pitman),
        "zayatz_population_unique_share": share(view.zayatz),
        "decides": False,
        "models": "ARX RiskModelPopulationUniqueness (Pitman, Zayatz)",
    }


def _resolved(given: tuple[str, ...] | None, columns: tuple[str, ...]) -> tuple[str, ...] | None:
    return None if given is None else resolve_names(given, columns)


def _chosen(
    given: tuple[str, ...] | None, proposed: tuple[str, ...], other: tuple[str, ...] | None
) -> tuple[str, ...]:
    """The columns given, else the proposed ones less those the user put in the other list."""
    if given is not None:
        return given
    return tuple(c for c in proposed if c not in (other or ()))


def table_text(cat: Catalogue, risk: TableRisk, choices: ChoicesFile | None = None) -> str:
    scan, choice = risk.scan, risk.choice
    key = "risk.report.table.one" if risk.original.records == 1 else "risk.report.table"
    lines = [
        cat.t(
            key,
            table=scan.table,
            records=format_count(risk.original.records),
            columns=len(scan.columns),
        )
    ]
    if scan.findings:
        lines.append("  " + cat.t("risk.report.findings"))
        lines.extend(f"    • {finding_text(cat, f)}" for f in scan.findings)
    lines.append("  " + cat.t("risk.report.quasi", columns=", ".join(choice.quasi) or "—"))
    lines.append("  " + cat.t("risk.report.sensitive", columns=", ".join(choice.sensitive) or "—"))
    if choice.rules:
        lines.append("  " + cat.t("risk.report.rules"))
        lines.extend(f"    • {rule_text(cat, r)}" for r in choice.rules)
    lines.extend(f"  {line}" for line in summary_lines(cat, risk))
    for criterion in Criterion:
        verdict = risk.verdict(criterion)
        lines.append(f"  {criterion_text(cat, criterion, verdict.excluded)}")
        lines.extend(f"      {line}" for line in verdict_lines(cat, verdict))
        text = choices.justification(scan.table, criterion) if choices else ""
        if text and not verdict.excluded:
            lines.append(
                "      " + cat.t("risk.choices.justification", text=" ".join(text.split()))
            )
    return "\n".join(lines) + "\n"


def scan_text(cat: Catalogue, scan: TableScan, reason: str) -> str:
    """A table that could not be measured: why, and what identifies in it all the same."""
    lines = [cat.t("risk.report.not_measured", table=scan.table, reason=reason)]
    if scan.findings:
        lines.append("  " + cat.t("risk.report.findings"))
        lines.extend(f"    • {finding_text(cat, f)}" for f in scan.findings)
    return "\n".join(lines) + "\n"


def _image_text(cat: Catalogue, image: ImagePrivacyReport) -> str:
    if not image.findings:
        return cat.t("risk.report.image_clean", file=image.path) + "\n"
    lines = [cat.t("risk.report.image", file=image.path, count=len(image.findings))]
    lines.extend(f"  • {image_finding_text(cat, f)}" for f in image.findings)
    return "\n".join(lines) + "\n"


def _document(
    cat: Catalogue, report: RiskReport, errors: list[str], not_assessed: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        # Each verdict with its rule, source, reasons and remedies in words.
        "tables": [
            {
                **table_to_json(t),
                "verdicts": {c.value: t.verdict(c).to_json(cat) for c in Criterion},
            }
            for t in report.tables
        ],
        "images": [
            {
                "path": image.path,
                "pages": image.pages,
                "removable_pages": list(image.removable_pages),
                "findings": [
                    {
                        "rule": f.rule.value,
                        "page": f.page,
                        "tag": f.tag,
                        "excerpt": f.excerpt,
                    }
                    for f in image.findings
                ],
            }
            for image in report.images
        ],
        "criteria": {c.value: _verdict(report, c) for c in Criterion},
        "not_assessed": not_assessed,
        "errors": errors,
    }


def _verdict(report: RiskReport, criterion: Criterion) -> str:
    if not report.tables and not report.images:
        return "not_assessed"  # nothing measured excludes nothing
    return "excluded" if report.excluded(criterion) else "not_excluded"
