"""The written identification-risk analysis: one document, as Markdown and as one HTML page.

The document is what the partner keeps and shows to the Health Data Hub: data description,
method, quasi-identifiers, the three criteria of the Article 29 Working Party (WP216) with their
figures and the partner's justifications, residual risk, measures taken and the attestation.

It is built once as a list of neutral blocks (headings, paragraphs, tables, a chart…) and each
format renders those blocks, so both files always hold the same sections in the same order.
Everything that comes from the user (column and table names, paths, justifications, attestation)
is escaped for its format. No value of the data is ever written: only column names, measures,
and the already-masked examples of the scan (`Finding.examples`, `ImageFinding.excerpt`).
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from hdh_wizard.core.safe_files import check_not_linked, replace_atomically, write_temporary
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import (
    format_count,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_size,
)
from hdh_wizard.inspect.risk.analysis import Criterion, TableRisk, role_in
from hdh_wizard.inspect.risk.choices import choices_to_json
from hdh_wizard.inspect.risk.generalise import Coarsening
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.inspect.risk.measures import (
    DEFAULT_THRESHOLD,
    SIZE_BUCKETS,
    STRICT_THRESHOLD,
    RiskMeasures,
)
from hdh_wizard.inspect.risk.report import RiskReport
from hdh_wizard.inspect.risk.slide_privacy import ImagePrivacyReport
from hdh_wizard.inspect.risk.verdicts import no_person_rule, rule_sentence, rule_source
from hdh_wizard.present.risk_presenters import (
    image_finding_text,
    link_text,
    measure_rows,
    rule_text,
    summary_lines,
)

DOCUMENT_STEM = "analyse-risque-reidentification"
_NONE = "—"


# --- the document as neutral blocks -----------------------------------------------------------


@dataclass(frozen=True)
class _Heading:
    level: int
    text: str
    anchor: str = ""  # set on the numbered sections, which the HTML contents link to


@dataclass(frozen=True)
class _Paragraph:
    text: str
    note: bool = False  # a small print line (the footer)


@dataclass(frozen=True)
class _Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class _Fields:
    """Label / value pairs: the release's header, a table's facts, the attestation."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    figures: bool = False  # the columns after the first hold figures: aligned right


@dataclass(frozen=True)
class _Quote:
    text: str  # the partner's own words, possibly on several lines


@dataclass(frozen=True)
class _Code:
    text: str  # shown exactly (the replayable JSON choices)
    language: str = "json"


@dataclass(frozen=True)
class _Verdict:
    text: str
    excluded: bool


@dataclass(frozen=True)
class _Series:
    label: str
    css: str  # "before" or "after": the HTML colours and the tests find the bars by it
    histogram: tuple[int, ...]  # records per SIZE_BUCKETS entry
    records: int


@dataclass(frozen=True)
class _Chart:
    title: str
    series: tuple[_Series, ...]
    threshold: int


_Block = _Heading | _Paragraph | _Bullets | _Fields | _Table | _Quote | _Verdict | _Chart | _Code


def _blocks(report: RiskReport, cat: Catalogue) -> list[_Block]:
    generated = format_datetime(report.generated_at, cat.lang)
    blocks: list[_Block] = [
        _Heading(1, cat.t("risk.doc.title")),
        _Fields(
            (
                (cat.t("risk.doc.release"), report.release),
                (cat.t("risk.doc.generated"), generated),
            )
        ),
        _Paragraph(cat.t("risk.doc.purpose")),
    ]
    for number, (key, build) in enumerate(_SECTIONS, start=1):
        blocks.append(_Heading(2, f"{number}. {cat.t(key)}", f"section-{number}"))
        blocks.extend(build(report, cat))
    blocks.append(_Paragraph(cat.t("risk.doc.footer", date=generated), note=True))
    return blocks


def _data_section(report: RiskReport, cat: Catalogue) -> list[_Block]:
    blocks: list[_Block] = [_Heading(3, cat.t("risk.doc.data.tables"))]
    if not report.tables:
        blocks.append(_Paragraph(cat.t("risk.doc.data.no_tables")))
    for risk in report.tables:
        scan = risk.scan
        blocks += [
            _Heading(4, cat.t("risk.doc.table", table=scan.table)),
            _Fields(
                (
                    (cat.t("risk.measure.records"), format_count(risk.original.records)),
                    (cat.t("risk.doc.data.columns"), format_count(len(scan.columns))),
                )
            ),
        ]
        if not scan.findings:
            blocks.append(_Paragraph(cat.t("risk.doc.data.no_findings")))
            continue
        rows = tuple(
            (
                f.column,
                cat.t(f"risk.rule.{f.rule.value}"),
                cat.t(
                    "risk.doc.data.matches",
                    matches=format_count(f.matches),
                    values=format_count(f.values),
                ),
                ", ".join(f.examples) or _NONE,  # masked at the source
            )
            for f in scan.findings
        )
        header = tuple(
            cat.t(f"risk.doc.col.{c}") for c in ("column", "content", "matches", "examples")
        )
        blocks += [_Paragraph(cat.t("risk.doc.data.findings")), _Table(header, rows)]
    blocks.append(_Heading(3, cat.t("risk.doc.data.images")))
    if not report.images:
        blocks.append(_Paragraph(cat.t("risk.doc.data.no_images")))
    for image in report.images:
        blocks += _image_blocks(report, image, cat)
    return blocks


def _image_blocks(report: RiskReport, image: ImagePrivacyReport, cat: Catalogue) -> list[_Block]:
    fields = [(cat.t("risk.doc.data.pages"), format_count(image.pages))]
    if image.removable_pages:
        pages = ", ".join(str(p + 1) for p in image.removable_pages)  # pages count from 1
        fields.append((cat.t("risk.doc.data.removable"), pages))
    blocks: list[_Block] = [
        _Heading(4, cat.t("risk.doc.image", path=image.path)),
        _Fields(tuple(fields)),
    ]
    if not image.findings:
        blocks.append(_Paragraph(cat.t("risk.doc.data.image_clean")))
        return blocks
    blocks += [
        _Paragraph(cat.t("risk.doc.data.image_findings")),
        _Bullets(tuple(image_finding_text(cat, f) for f in image.findings)),
    ]
    if image.path in report.replaced:
        blocks.append(_Paragraph(cat.t("risk.doc.data.image_cleaned")))
    return blocks


def _method_section(report: RiskReport, cat: Catalogue) -> list[_Block]:
    thresholds = {r.choice.threshold for r in report.tables}
    if len(thresholds) == 1:
        chosen = str(thresholds.pop())
    elif thresholds:
        chosen = ", ".join(
            cat.t(
                "risk.doc.method.threshold_table",
                threshold=r.choice.threshold,
                table=r.scan.table,
            )
            for r in report.tables
        )
    else:
        chosen = _NONE
    threshold = cat.t(
        "risk.doc.method.threshold",
        default=DEFAULT_THRESHOLD,
        strict=STRICT_THRESHOLD,
        thresholds=chosen,
    )
    return [
        _Paragraph(cat.t("risk.doc.method.identifiers")),
        _Paragraph(cat.t("risk.doc.method.classes")),
        _Paragraph(threshold),
        _Paragraph(cat.t("risk.doc.method.risk")),
        _Paragraph(cat.t("risk.doc.method.diversity")),
        _Paragraph(cat.t("risk.doc.method.linkability")),
        _Paragraph(cat.t("risk.doc.method.whole")),
    ]


def _roles_section(report: RiskReport, cat: Catalogue) -> list[_Block]:
    blocks: list[_Block] = [_Paragraph(cat.t("risk.doc.roles.intro"))]
    if not report.tables:
        blocks.append(_Paragraph(cat.t("risk.doc.data.no_tables")))
    for risk in report.tables:
        choice = risk.choice
        dropped = [c for c in risk.scan.columns if c in choice.dropped]
        blocks += [
            _Heading(3, cat.t("risk.doc.table", table=risk.scan.table)),
            _Fields(
                (
                    (
                        cat.t("risk.doc.roles.quasi"),
                        cat.t("risk_journey.no_person.doc", reason=choice.no_person.strip())
                        if choice.declares_no_person
                        else _names(choice.quasi),
                    ),
                    (cat.t("risk.doc.roles.sensitive"), _names(choice.sensitive)),
                    (cat.t("risk.doc.roles.threshold"), str(choice.threshold)),
                    (cat.t("risk.doc.roles.dropped"), _names(dropped)),
                )
            ),
            _Table(
                tuple(cat.t(f"risk.doc.col.{c}") for c in ("column", "proposed", "chosen", "why")),
                tuple(_role_row(risk, column, cat) for column in risk.scan.columns),
            ),
        ]
    return blocks


def _role_row(risk: TableRisk, column: str, cat: Catalogue) -> tuple[str, str, str, str]:
    proposed = risk.scan.roles.get(column, Role.OTHER)
    chosen = role_in(risk.choice, column)
    removed = column in risk.choice.dropped and proposed is not Role.DIRECT
    # The rule sentences say what was found (by name or by content); else the name proposed it.
    reasons = [cat.t(f"risk.rule.{f.rule.value}") for f in risk.scan.findings if f.column == column]
    if not reasons and proposed is not Role.OTHER:
        reasons.append(cat.t("risk.doc.why.name"))
    if chosen is not proposed:
        reasons.append(cat.t("risk.doc.why.changed"))
    join = functools.partial(cat.t, "risk.doc.join")
    why = functools.reduce(lambda a, b: join(first=a, second=b), reasons) if reasons else _NONE
    # A quasi-identifier (or any column) generalised away is removed, not a direct identifier.
    chosen_text = cat.t("risk.doc.role.removed") if removed else cat.t(f"risk.role.{chosen.value}")
    return (column, cat.t(f"risk.role.{proposed.value}"), chosen_text, why)


def _criteria_section(report: RiskReport, cat: Catalogue) -> list[_Block]:
    blocks: list[_Block] = [_Paragraph(cat.t("risk.doc.criteria.intro"))]
    for criterion in Criterion:
        name = cat.t(f"risk.criterion.{criterion.value}")
        blocks += [
            _Heading(3, name),
            _Paragraph(cat.t(f"risk.criterion.question.{criterion.value}")),
            _Paragraph(cat.t("risk.verdict.rule", rule=rule_sentence(cat, criterion))),
            _Paragraph(cat.t("risk.verdict.source", source=rule_source(cat, criterion))),
        ]
        if any(risk.choice.declares_no_person for risk in report.tables):
            rule, source = no_person_rule(cat)
            blocks += [
                _Paragraph(cat.t("risk.verdict.rule", rule=rule)),
                _Paragraph(cat.t("risk.verdict.source", source=source)),
            ]
        if not report.tables:
            blocks.append(_Paragraph(cat.t("risk.doc.criteria.no_tables")))
        for risk in report.tables:
            judged = risk.verdict(criterion)
            excluded = judged.excluded
            blocks.append(_Heading(4, cat.t("risk.doc.table", table=risk.scan.table)))
            blocks += _FIGURES[criterion](risk, cat, report)
            verdict = cat.t(
                "risk.doc.verdict.table", table=risk.scan.table, verdict=_verdict(cat, excluded)
            )
            blocks.append(_Verdict(verdict, excluded))
            reasons = (*judged.reasons, *judged.warnings)
            if reasons:
                blocks.append(
                    _Bullets(
                        tuple(
                            f"{r.text(cat)} {cat.t('risk.verdict.remedy', remedy=r.remedy(cat))}"
                            for r in reasons
                        )
                    )
                )
        excluded = report.excluded(criterion)
        if criterion is Criterion.SINGLING_OUT and report.images_left:
            files = ", ".join(report.images_left)
            blocks.append(_Paragraph(cat.t("risk.doc.criteria.images_left", files=files)))
        verdict = cat.t("risk.doc.verdict.release", criterion=name, verdict=_verdict(cat, excluded))
        justification = report.justifications.get(criterion, "").strip()
        blocks += [
            _Verdict(verdict, excluded),
            _Paragraph(cat.t("risk.doc.justification")),
            _Quote(justification or _NONE),
        ]
    return blocks


def _verdict(cat: Catalogue, excluded: bool) -> str:
    return cat.t("risk.criterion.excluded" if excluded else "risk.criterion.not_excluded")


def _singling_out_figures(risk: TableRisk, cat: Catalogue, report: RiskReport) -> list[_Block]:
    rows = _class_rows(risk, cat)
    blocks: list[_Block] = [_measure_table(risk, rows, cat, report)]
    if risk.direct_left:
        blocks.append(_Paragraph(_direct_left(risk, cat)))
    return blocks


def _linkability_figures(risk: TableRisk, cat: Catalogue, report: RiskReport) -> list[_Block]:
    blocks: list[_Block] = []
    if risk.links:
        blocks += [
            _Paragraph(cat.t("risk.doc.criteria.links")),
            _Bullets(tuple(link_text(cat, link) for link in risk.links)),
        ]
    else:
        blocks.append(_Paragraph(cat.t("risk.doc.criteria.no_links")))
    if risk.direct_left:
        blocks.append(_Paragraph(_direct_left(risk, cat)))
    return blocks


def _inference_figures(risk: TableRisk, cat: Catalogue, report: RiskReport) -> list[_Block]:
    if not risk.original.diversity:
        return [_Paragraph(cat.t("risk.doc.criteria.no_sensitive"))]
    # measure_rows lists the class measures first, then two lines per sensitive attribute.
    rows = measure_rows(cat, risk.original, risk.published)[len(_class_rows(risk, cat)) :]
    return [_measure_table(risk, rows, cat, report)]


_FIGURES: dict[Criterion, Callable[[TableRisk, Catalogue, RiskReport], list[_Block]]] = {
    Criterion.SINGLING_OUT: _singling_out_figures,
    Criterion.LINKABILITY: _linkability_figures,
    Criterion.INFERENCE: _inference_figures,
}


def _class_rows(risk: TableRisk, cat: Catalogue) -> list[tuple[str, str, str]]:
    """The equivalence-class lines of the comparison, without the l-diversity ones."""
    published = replace(risk.published, diversity=()) if risk.published else None
    return measure_rows(cat, replace(risk.original, diversity=()), published)


def _after_label(report: RiskReport | None, risk: TableRisk, cat: Catalogue) -> str:
    """ "After generalisation" when the copy was written; else the figures are simulated."""
    if report is not None and report.copy_of(risk.scan.table) is not None:
        return cat.t("risk.doc.col.after")
    return cat.t("risk.doc.col.simulated")


def _measure_table(
    risk: TableRisk,
    rows: Sequence[tuple[str, str, str]],
    cat: Catalogue,
    report: RiskReport | None = None,
) -> _Table:
    if risk.published is None:  # no rules: one column of values
        header = (cat.t("risk.doc.col.measure"), cat.t("risk.doc.col.value"))
        return _Table(header, tuple((label, before) for label, before, _ in rows), figures=True)
    compared = (
        cat.t("risk.doc.col.measure"),
        cat.t("risk.doc.col.before"),
        _after_label(report, risk, cat),
    )
    return _Table(compared, tuple(rows), figures=True)


def _direct_left(risk: TableRisk, cat: Catalogue) -> str:
    return cat.t("risk.summary.direct_left", columns=", ".join(risk.direct_left))


def _residual_section(report: RiskReport, cat: Catalogue) -> list[_Block]:
    blocks: list[_Block] = [_Paragraph(cat.t("risk.doc.residual.intro"))]
    if not report.tables:
        blocks.append(_Paragraph(cat.t("risk.doc.residual.none")))
    for risk in report.tables:
        series = [_series(cat.t("risk.doc.col.before"), "before", risk.original)]
        if risk.published is not None:
            series.append(_series(_after_label(report, risk, cat), "after", risk.published))
        blocks += [
            _Heading(3, cat.t("risk.doc.table", table=risk.scan.table)),
            _Bullets(tuple(summary_lines(cat, risk))),
            _Chart(cat.t("risk.doc.chart.title"), tuple(series), risk.choice.threshold),
        ]
    return blocks


def _series(label: str, css: str, measures: RiskMeasures) -> _Series:
    return _Series(label, css, measures.size_histogram, measures.records)


def _measures_section(report: RiskReport, cat: Catalogue) -> list[_Block]:
    blocks: list[_Block] = [_Heading(3, cat.t("risk.doc.measures.rules"))]
    if not report.tables:
        blocks.append(_Paragraph(cat.t("risk.doc.data.no_tables")))
    for risk in report.tables:
        table = risk.scan.table
        if risk.choice.rules:
            blocks += [
                _Paragraph(cat.t("risk.doc.measures.table_rules", table=table)),
                _Bullets(tuple(rule_text(cat, rule) for rule in risk.choice.rules)),
            ]
        else:
            blocks.append(_Paragraph(cat.t("risk.doc.measures.no_rules", table=table)))
        blocks += _details_blocks(report, risk, cat)
    blocks.append(_Heading(3, cat.t("risk.doc.measures.copies")))
    if not report.replacements:
        # The rules were simulated: said so, rather than "published as they are" alone.
        if any(r.choice.rules for r in report.tables):
            blocks.append(_Paragraph(cat.t("risk.doc.measures.simulated")))
        else:
            blocks.append(_Paragraph(cat.t("risk.doc.measures.no_copies")))
        return blocks + _provenance_blocks(report, cat)
    header = tuple(cat.t(f"risk.doc.col.{c}") for c in ("source", "copy", "size", "sha256"))
    rows = tuple(
        (
            r.source,
            r.display,
            f"{format_size(r.source_size, cat.lang)} → {format_size(r.size, cat.lang)}",
            r.sha256,
        )
        for r in report.replacements
    )
    return [
        *blocks,
        _Paragraph(cat.t("risk.doc.measures.copies_intro")),
        _Table(header, rows),
        *_provenance_blocks(report, cat),
    ]


_UNREAD_WHY = {
    Coarsening.AGE_5: "risk.doc.unread.age",
    Coarsening.AGE_10: "risk.doc.unread.age",
    Coarsening.MONTH: "risk.doc.unread.date",
    Coarsening.YEAR: "risk.doc.unread.date",
    Coarsening.DEPARTEMENT: "risk.doc.unread.code",
}


def _details_blocks(report: RiskReport, risk: TableRisk, cat: Catalogue) -> list[_Block]:
    """Per rule the values changed, unread and suppressed; the loss; the classes at risk."""
    table = risk.scan.table
    details = report.details_of(table)
    if details is None:
        return [_Paragraph(cat.t("risk.doc.counts.none", table=table))] if risk.choice.rules else []
    blocks: list[_Block] = []
    if details.rule_counts:
        header = tuple(
            cat.t(f"risk.doc.col.{c}")
            for c in ("rule", "changed", "unread", "suppressed", "why_unread")
        )
        rows = tuple(
            (
                rule_text(cat, c.rule),
                format_count(c.changed),
                format_count(c.unread),
                format_count(c.suppressed),
                cat.t(_UNREAD_WHY[c.rule.coarsening])
                if c.unread and c.rule.coarsening in _UNREAD_WHY
                else _NONE,
            )
            for c in details.rule_counts
        )
        blocks += [_Paragraph(cat.t("risk.doc.counts.intro", table=table)), _Table(header, rows)]
    if details.loss is not None:
        loss = format_decimal(details.loss, cat.lang, 4)
        blocks.append(_Paragraph(cat.t("risk.doc.loss", loss=loss)))
    elif risk.choice.rules:
        blocks.append(_Paragraph(cat.t("risk.doc.loss_unavailable")))
    threshold = risk.choice.threshold
    if not details.classes_at_risk:
        blocks.append(_Paragraph(cat.t("risk.doc.at_risk.none", threshold=threshold)))
        return blocks
    intro = cat.t(
        "risk.doc.at_risk.intro",
        threshold=threshold,
        total=format_count(details.classes_at_risk_total),
        shown=format_count(len(details.classes_at_risk)),
    )
    keys_header: tuple[str, ...] = (*details.key_columns, cat.t("risk.doc.col.class_size"))
    key_rows: tuple[tuple[str, ...], ...] = tuple(
        (*(v or _NONE for v in c.key), format_count(c.size)) for c in details.classes_at_risk
    )
    return [*blocks, _Paragraph(intro), _Table(keys_header, key_rows)]


def _safe_json(document: object) -> str:
    """JSON with <, > and & escaped as JSON escapes: still the same JSON once parsed, but no
    user text (a column named "<b>x</b>") can turn into markup in either format."""
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _provenance_blocks(report: RiskReport, cat: Catalogue) -> list[_Block]:
    """Versions, the fingerprint of every file read and written, and the replayable choices."""
    provenance = report.provenance
    blocks: list[_Block] = [
        _Heading(3, cat.t("risk.doc.provenance.heading")),
        _Fields(
            (
                (cat.t("risk.doc.provenance.tool"), provenance.tool),
                (cat.t("risk.doc.provenance.python"), provenance.python),
                (cat.t("risk.doc.provenance.polars"), provenance.polars),
            )
        ),
    ]
    files = [
        (f.path, cat.t("risk.doc.provenance.input"), format_size(f.size, cat.lang), f.sha256)
        for f in provenance.inputs
    ]
    files += [
        (r.display, cat.t("risk.doc.provenance.output"), format_size(r.size, cat.lang), r.sha256)
        for r in report.replacements
    ]
    if files:
        header = tuple(cat.t(f"risk.doc.col.{c}") for c in ("file", "use", "class_size", "sha256"))
        blocks += [_Paragraph(cat.t("risk.doc.provenance.hashes")), _Table(header, tuple(files))]
    else:
        blocks.append(_Paragraph(cat.t("risk.doc.provenance.no_files")))
    document = choices_to_json(report.tables, report.justifications, report.table_justifications)
    blocks += [
        _Heading(3, cat.t("risk.doc.replay.heading")),
        _Paragraph(cat.t("risk.doc.replay.intro")),
        _Code(_safe_json(document)),
    ]
    return blocks


def _attestation_section(report: RiskReport, cat: Catalogue) -> list[_Block]:
    attestation = report.attestation
    responsibility = _Paragraph(cat.t("risk.doc.attestation.responsibility"))
    if attestation is None:
        return [responsibility, _Verdict(cat.t("risk.doc.attestation.unsigned"), False)]
    statement = cat.t(
        "risk.doc.attestation.statement",
        name=attestation.name,
        role=attestation.role,
        organization=attestation.organization,
    )
    fields = (
        (cat.t("risk.doc.attestation.name"), attestation.name),
        (cat.t("risk.doc.attestation.role"), attestation.role),
        (cat.t("risk.doc.attestation.organization"), attestation.organization),
        (cat.t("risk.doc.attestation.date"), format_date(attestation.signed_on, cat.lang)),
    )
    return [responsibility, _Paragraph(statement), _Fields(fields)]


_SECTIONS: tuple[tuple[str, Callable[[RiskReport, Catalogue], list[_Block]]], ...] = (
    ("risk.doc.section.data", _data_section),
    ("risk.doc.section.method", _method_section),
    ("risk.doc.section.roles", _roles_section),
    ("risk.doc.section.criteria", _criteria_section),
    ("risk.doc.section.residual", _residual_section),
    ("risk.doc.section.measures", _measures_section),
    ("risk.doc.section.attestation", _attestation_section),
)


def _names(columns: Sequence[str]) -> str:
    return ", ".join(columns) or _NONE


def _bucket_label(low: int, high: int | None) -> str:
    if high is None:
        return f"≥ {low}"
    return str(low) if low == high else f"{low}–{high}"


def _below(low: int, threshold: int) -> bool:
    """The range holds sizes under the threshold: classes that single out."""
    return low < threshold


# --- Markdown -----------------------------------------------------------------------------------

# Characters that would turn user text into markup (links, emphasis, raw HTML, table cells).
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~])")
_UNDERSCORES = re.compile(r"_+")
_BAR_WIDTH = 20  # characters of the longest bar of the text chart


def _md(text: str) -> str:
    escaped = _MD_SPECIAL.sub(r"\\\1", text)

    # An underscore between two letters never makes emphasis: keep "date_naissance" readable.
    def underscores(match: re.Match[str]) -> str:
        before = match.string[match.start() - 1] if match.start() else ""
        after = match.string[match.end()] if match.end() < len(match.string) else ""
        if before.isalnum() and after.isalnum():
            return match.group()
        return match.group().replace("_", r"\_")

    return _UNDERSCORES.sub(underscores, escaped)


_LINE_BREAKS = re.compile(r"[ \t]*[\r\n]+[ \t]*")


def _md_cell(text: str) -> str:
    # A table cell or a list item is one line; no-break spaces in figures ("30,6 %") stay.
    return _md(_LINE_BREAKS.sub(" ", text.strip()))


def render_markdown(report: RiskReport, cat: Catalogue) -> str:
    parts = [_md_block(block, cat) for block in _blocks(report, cat)]
    return "\n\n".join(parts) + "\n"


def _md_block(block: _Block, cat: Catalogue) -> str:
    match block:
        case _Heading(level, text):
            return f"{'#' * level} {_md_cell(text)}"
        case _Paragraph(text, note):
            return f"*{_md(text)}*" if note else _md(text)
        case _Bullets(items):
            return "\n".join(f"- {_md_cell(item)}" for item in items)
        case _Fields(items):
            return "\n".join(
                "- " + cat.t("risk.doc.field", label=f"**{_md_cell(k)}**", value=_md_cell(v))
                for k, v in items
            )
        case _Table(header, rows, figures):
            lines = [
                _md_row(header),
                _md_row(["---", *(["---:" if figures else "---"] * (len(header) - 1))], raw=True),
            ]
            lines += [_md_row(row) for row in rows]
            return "\n".join(lines)
        case _Quote(text):
            return "\n".join(f"> {_md(line)}".rstrip() for line in text.splitlines())
        case _Verdict(text, excluded):
            return f"**{'✓' if excluded else '✗'} {_md(text)}**"
        case _Chart():
            return _md_chart(block, cat)
        case _Code(text, language):
            fence = "`" * max(3, _longest_backticks(text) + 1)
            return f"{fence}{language}\n{text}\n{fence}"
    raise AssertionError(block)


def _longest_backticks(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _md_row(cells: Sequence[str], raw: bool = False) -> str:
    return "| " + " | ".join(c if raw else _md_cell(c) for c in cells) + " |"


def _md_chart(chart: _Chart, cat: Catalogue) -> str:
    """A table with one bar of block characters per series: Markdown has no pictures of its own."""
    peak = max((n for s in chart.series for n in s.histogram), default=0) or 1
    header = [cat.t("risk.doc.chart.size"), *(s.label for s in chart.series)]
    lines = [f"**{_md(chart.title)}**", "", _md_row(header)]
    lines.append(_md_row(["---", *(["---"] * len(chart.series))], raw=True))
    for index, (low, high) in enumerate(SIZE_BUCKETS):
        label = _bucket_label(low, high) + (" ⚠" if _below(low, chart.threshold) else "")
        cells = [label]
        for series in chart.series:
            records = series.histogram[index]
            bar = "█" * round(_BAR_WIDTH * records / peak)
            share = format_percent(records / series.records if series.records else 0.0, cat.lang)
            cells.append(f"{bar} {format_count(records)} ({share})".strip())
        lines.append(_md_row(cells))
    lines += ["", "⚠ " + _md(cat.t("risk.doc.chart.below", threshold=chart.threshold))]
    return "\n".join(lines)


# --- HTML ---------------------------------------------------------------------------------------

_STYLE = """
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6577; --line: #d5dae3;
  --before: #9aa8bd; --after: #1f5fa8; --below: #fbe3e3; --ok: #1f7a3a; --ko: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #f4f6f9; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 2.5rem 3rem; background: #fff; }
h1 { font-size: 1.9rem; margin: 0 0 1rem; border-bottom: 3px solid var(--after); }
h2 { font-size: 1.45rem; margin: 2.4rem 0 .8rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.2rem; margin: 1.8rem 0 .6rem; }
h4 { font-size: 1.02rem; margin: 1.3rem 0 .5rem; color: var(--muted); }
p { margin: .6rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .6rem 0; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1rem; font-size: .93rem; }
th, td { border: 1px solid var(--line); padding: .35rem .6rem; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
th { background: #eef1f6; }
table.figures td:not(:first-child), table.figures th:not(:first-child) { text-align: right;
  white-space: nowrap; }
blockquote { margin: .6rem 0 1.2rem; padding: .6rem 1rem; border-left: 4px solid var(--after);
  background: #f3f6fb; }
blockquote p { margin: .3rem 0; }
pre { background: #f3f6fb; padding: .6rem 1rem; overflow-x: auto; font-size: .85rem; }
.verdict { font-weight: 600; }
.verdict.excluded { color: var(--ok); }
.verdict.not-excluded { color: var(--ko); }
nav ol { margin: .3rem 0; }
.note { color: var(--muted); font-size: .85rem; margin-top: 2.5rem; }
figure { margin: 1rem 0 1.5rem; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
svg { width: 100%; height: auto; font-family: inherit; }
svg .bar.before { fill: var(--before); }
svg .bar.after { fill: var(--after); }
svg .below { fill: var(--below); }
svg .below.legend { stroke: var(--ko); stroke-width: .5; }
svg .axis { stroke: var(--ink); }
svg text { fill: var(--ink); font-size: 11px; }
svg text.value { font-size: 9.5px; }
@media print { body { background: #fff; } main { padding: 0; max-width: none; }
  h2, h3, h4 { break-after: avoid; } figure, table, blockquote { break-inside: avoid; } }
"""
# Nothing may load or run: the page is read offline and may travel as an attachment.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def render_html(report: RiskReport, cat: Catalogue) -> str:
    blocks = _blocks(report, cat)
    body: list[str] = []
    charts = 0
    for block in blocks:
        if isinstance(block, _Chart):
            charts += 1
            body.append(_svg_chart(block, cat, f"chart-{charts}"))
        else:
            body.append(_html_block(block, cat))
    contents = "".join(
        f'<li><a href="#{b.anchor}">{_h(b.text)}</a></li>'
        for b in blocks
        if isinstance(b, _Heading) and b.anchor
    )
    nav = f"<nav><h2>{_h(cat.t('risk.doc.contents'))}</h2><ol>{contents}</ol></nav>"
    # The contents go after the header (title, release, purpose): before the first section.
    first_section = next(i for i, b in enumerate(blocks) if isinstance(b, _Heading) and b.anchor)
    body.insert(first_section, nav)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{cat.lang.value}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_h(cat.t('risk.doc.title'))} — {_h(report.release)}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def _html_block(block: _Block, cat: Catalogue) -> str:
    match block:
        case _Heading(level, text, anchor):
            ident = f' id="{anchor}"' if anchor else ""
            return f"<h{level}{ident}>{_h(text)}</h{level}>"
        case _Paragraph(text, note):
            return f'<p class="note">{_h(text)}</p>' if note else f"<p>{_h(text)}</p>"
        case _Bullets(items):
            return "<ul>" + "".join(f"<li>{_h(item)}</li>" for item in items) + "</ul>"
        case _Fields(items):
            return "<dl>" + "".join(f"<dt>{_h(k)}</dt><dd>{_h(v)}</dd>" for k, v in items) + "</dl>"
        case _Table(header, rows, figures):
            css = ' class="figures"' if figures else ""
            head = "".join(f'<th scope="col">{_h(c)}</th>' for c in header)
            body = "".join(
                "<tr>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>" for row in rows
            )
            return f"<table{css}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        case _Quote(text):
            paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
            inner = "".join(
                "<p>" + "<br>".join(_h(line) for line in p.strip().splitlines()) + "</p>"
                for p in paragraphs
            )
            return f"<blockquote>{inner}</blockquote>"
        case _Verdict(text, excluded):
            css = "excluded" if excluded else "not-excluded"
            return f'<p class="verdict {css}">{"✓" if excluded else "✗"} {_h(text)}</p>'
        case _Code(text, language):
            return f'<pre><code class="language-{language}">{_h(text)}</code></pre>'
    raise AssertionError(block)


# Geometry of the bar chart, in SVG user units (the picture scales to the page's width).
_WIDTH, _HEIGHT = 720, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 12, 12, 44, 52


def _svg_chart(chart: _Chart, cat: Catalogue, ident: str) -> str:
    plot_height = _HEIGHT - _TOP - _BOTTOM
    group = (_WIDTH - _LEFT - _RIGHT) / len(SIZE_BUCKETS)
    bar = (group - 16) / len(chart.series)
    peak = max((n for s in chart.series for n in s.histogram), default=0) or 1
    base = _TOP + plot_height
    parts = [
        f'<figure><figcaption id="{ident}">{_h(chart.title)}</figcaption>',
        f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-labelledby="{ident}">',
    ]
    parts.append(_svg_legend(chart, cat))
    for index, (low, high) in enumerate(SIZE_BUCKETS):
        x = _LEFT + index * group
        if _below(low, chart.threshold):
            parts.append(
                f'<rect class="below" x="{x:.1f}" y="{_TOP}" width="{group:.1f}" '
                f'height="{plot_height}"/>'
            )
        size = _bucket_label(low, high)
        for position, series in enumerate(chart.series):
            records = series.histogram[index]
            height = plot_height * records / peak
            if records and height < 1:
                height = 1  # a few records among millions still show
            left = x + 8 + position * bar
            share = format_percent(records / series.records if series.records else 0.0, cat.lang)
            tip = cat.t(
                "risk.doc.chart.bar",
                series=series.label,
                size=size,
                records=format_count(records),
                share=share,
            )
            parts.append(
                f'<rect class="bar {series.css}" x="{left + 1:.1f}" y="{base - height:.1f}" '
                f'width="{bar - 2:.1f}" height="{height:.1f}"><title>{_h(tip)}</title></rect>'
            )
            parts.append(
                f'<text class="value" x="{left + bar / 2:.1f}" y="{base - height - 4:.1f}" '
                f'text-anchor="middle">{_h(format_count(records))}</text>'
            )
        parts.append(
            f'<text x="{x + group / 2:.1f}" y="{base + 18}" text-anchor="middle">{_h(size)}</text>'
        )
    parts += [
        f'<line class="axis" x1="{_LEFT}" y1="{base}" x2="{_WIDTH - _RIGHT}" y2="{base}"/>',
        f'<text x="{_WIDTH / 2:.0f}" y="{_HEIGHT - 10}" text-anchor="middle">'
        f"{_h(cat.t('risk.doc.chart.size'))}</text>",
        "</svg></figure>",
    ]
    return "".join(parts)


def _svg_legend(chart: _Chart, cat: Catalogue) -> str:
    entries = [(s.css, s.label) for s in chart.series]
    entries.append(("below", cat.t("risk.doc.chart.below", threshold=chart.threshold)))
    parts, x = [], float(_LEFT)
    for css, label in entries:
        swatch = f"bar {css}" if css != "below" else "below"
        parts.append(f'<rect class="{swatch} legend" x="{x:.1f}" y="12" width="12" height="12"/>')
        parts.append(f'<text x="{x + 17:.1f}" y="22">{_h(label)}</text>')
        x += 17 + 6.2 * len(label) + 18  # about 6.2 units per character at 11px
    return "".join(parts)


# --- writing --------------------------------------------------------------------------------------


def write_documents(report: RiskReport, folder: Path, cat: Catalogue) -> list[Path]:
    """Write folder/DOCUMENT_STEM.md and .html; each file is either the old one or the new one.

    Both are rendered before anything is written, and both temporary files are complete before
    either is renamed, so a full disk leaves the previous pair as it was.
    """
    contents = {
        folder / f"{DOCUMENT_STEM}.md": render_markdown(report, cat),
        folder / f"{DOCUMENT_STEM}.html": render_html(report, cat),
    }
    for target in contents:  # a planted link: refused before anything is written
        check_not_linked(target)
    temporaries: dict[Path, Path] = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for target, text in contents.items():
            # Created new (never through a link), synced; "\n" line endings on every system.
            temporaries[target] = write_temporary(target, text.encode("utf-8"))
        for target, temporary in temporaries.items():
            replace_atomically(temporary, target)
    except OSError as error:
        raise HdhWizardError(
            "risk.error.document_write", folder=str(folder), detail=error.strerror or str(error)
        ) from error
    finally:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)
    return list(contents)
