"""The words of the identification-risk analysis, shared by `hdh-wizard risk` and the screen."""

from __future__ import annotations

from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import (
    format_count,
    format_decimal,
    format_duration,
    format_percent,
    format_size,
)
from hdh_wizard.inspect.risk.analysis import Criterion, TableRisk
from hdh_wizard.inspect.risk.generalise import ColumnRule
from hdh_wizard.inspect.risk.identifiers import Finding
from hdh_wizard.inspect.risk.linkability import Link
from hdh_wizard.inspect.risk.measures import Diversity, RiskMeasures
from hdh_wizard.inspect.risk.report import RiskReport
from hdh_wizard.inspect.risk.slide_privacy import ImageFinding
from hdh_wizard.inspect.risk.solutions import TableSearch
from hdh_wizard.inspect.risk.verdicts import Verdict

CRITERION_STYLES = {True: "green", False: "red"}


def finding_text(cat: Catalogue, finding: Finding) -> str:
    return cat.t(
        "risk.finding",
        column=finding.column,
        rule=cat.t(f"risk.rule.{finding.rule.value}"),
        matches=format_count(finding.matches),
        values=format_count(finding.values),
        examples=", ".join(finding.examples) or "—",
    )


def image_finding_text(cat: Catalogue, finding: ImageFinding) -> str:
    where = cat.t("risk.image_where", page=finding.page + 1) if finding.page is not None else ""
    tag = f" {finding.tag}" if finding.tag else ""
    return cat.t(
        "risk.image_finding",
        rule=cat.t(f"risk.image_rule.{finding.rule.value}"),
        where=where + tag,
        excerpt=finding.excerpt or "—",
    )


def rule_text(cat: Catalogue, rule: ColumnRule) -> str:
    text = cat.t(f"risk.coarsening.{rule.coarsening.value}", count=rule.min_count)
    return f"{rule.column} → {text}"


def link_text(cat: Catalogue, link: Link) -> str:
    share = format_percent(link.share, cat.lang)
    return cat.t(f"risk.link.{link.reason.value}", column=link.column, share=share)


def criterion_text(cat: Catalogue, criterion: Criterion, excluded: bool) -> str:
    verdict = cat.t("risk.criterion.excluded" if excluded else "risk.criterion.not_excluded")
    name = cat.t(f"risk.criterion.{criterion.value}")
    return cat.t("risk.criterion.line", mark="✓" if excluded else "✗", name=name, verdict=verdict)


def measure_rows(
    cat: Catalogue, original: RiskMeasures, published: RiskMeasures | None
) -> list[tuple[str, str, str]]:
    """(label, before, after) lines of the side-by-side comparison; "after" empty without rules."""
    rows: list[tuple[str, str, str]] = []
    after = _singling_out(cat, published)
    for key, value in _singling_out(cat, original).items():
        rows.append((cat.t(key, threshold=original.threshold), value, after.get(key, "")))
    after_diversity = {d.column: d for d in published.diversity} if published else {}
    for d in original.diversity:
        later = after_diversity.get(d.column)
        rows.append(
            (
                cat.t("risk.measure.smallest_l", column=d.column),
                str(d.smallest_l),
                str(later.smallest_l) if later else ("—" if published else ""),
            )
        )
        rows.append(
            (
                cat.t("risk.measure.records_l1", column=d.column),
                _count_share(cat, d.records_l1, original.records),
                _count_share(cat, later.records_l1, published.records)
                if later and published
                else ("—" if published else ""),
            )
        )
    return rows


def _singling_out(cat: Catalogue, m: RiskMeasures | None) -> dict[str, str]:
    if m is None:
        return {}
    return {
        "risk.measure.records": format_count(m.records),
        "risk.measure.classes": format_count(m.classes),
        "risk.measure.k": format_count(m.k),
        "risk.measure.in_small": _count_share(cat, m.records_in_small, m.records),
        "risk.measure.unique": _count_share(cat, m.unique_records, m.records),
        "risk.measure.average_risk": format_decimal(m.average_risk, cat.lang),
        "risk.measure.max_risk": format_decimal(m.max_risk, cat.lang),
    }


def _count_share(cat: Catalogue, count: int, total: int) -> str:
    share = count / total if total else 0.0
    return f"{format_count(count)} ({format_percent(share, cat.lang)})"


def summary_lines(cat: Catalogue, risk: TableRisk) -> list[str]:
    """The three criteria of one table, each with its figures, for the command's report."""
    final = risk.final
    lines = [
        cat.t(
            "risk.summary.singling_out",
            k=format_count(final.k),
            threshold=final.threshold,
            small=_count_share(cat, final.records_in_small, final.records),
            unique=_count_share(cat, final.unique_records, final.records),
            average=format_decimal(final.average_risk, cat.lang),
            maximum=format_decimal(final.max_risk, cat.lang),
        )
    ]
    if risk.direct_left:
        lines.append(cat.t("risk.summary.direct_left", columns=", ".join(risk.direct_left)))
    if final.diversity:
        lines.extend(
            cat.t(
                "risk.summary.inference",
                column=d.column,
                l=d.smallest_l,
                entropy=format_decimal(d.smallest_entropy_l, cat.lang),
                share=format_percent(d.largest_share, cat.lang),
                confidence=round(d.confidence * 100),
                deduced=_count_share(cat, inferred(d), final.records),
            )
            for d in final.diversity
        )
    else:
        lines.append(cat.t("risk.summary.no_sensitive"))
    if risk.links:
        lines.append(
            cat.t("risk.summary.links", links="; ".join(link_text(cat, x) for x in risk.links))
        )
    else:
        lines.append(cat.t("risk.summary.no_links"))
    return lines


def criterion_facts(cat: Catalogue, report: RiskReport, criterion: Criterion) -> list[str]:
    """What the measures say about one criterion, table by table, in a line each."""
    lines: list[str] = []
    for risk in report.tables:
        final = risk.final
        if criterion is Criterion.SINGLING_OUT:
            fact = "risk.screen.fact.singling_out"
            lines.append(
                cat.t(
                    fact,
                    table=risk.scan.table,
                    k=final.k,
                    small=final.records_in_small,
                    threshold=final.threshold,
                )
            )
            if risk.direct_left:
                lines.append(cat.t("risk.summary.direct_left", columns=", ".join(risk.direct_left)))
        elif criterion is Criterion.LINKABILITY:
            lines.extend(link_text(cat, link) for link in risk.links)
        else:
            if not final.diversity:
                lines.append(cat.t("risk.summary.no_sensitive"))
            lines.extend(
                cat.t(
                    "risk.screen.fact.inference",
                    table=risk.scan.table,
                    column=d.column,
                    l=d.smallest_l,
                    confidence=round(d.confidence * 100),
                    deduced=inferred(d),
                )
                for d in final.diversity
            )
        lines.extend(verdict_lines(cat, risk.verdict(criterion)))
    return lines


def inferred(diversity: Diversity) -> int:
    """Records whose sensitive value is deduced: unanimous classes, or one value over the bound."""
    return max(diversity.records_dominated, diversity.records_l1)


def verdict_lines(cat: Catalogue, verdict: Verdict) -> list[str]:
    """Why a criterion is not excluded and what would change it; warnings that decide nothing."""
    lines: list[str] = []
    for reason in (*verdict.reasons, *verdict.warnings):
        lines.append(f"• {reason.text(cat)}")
        lines.append(f"  {cat.t('risk.verdict.remedy', remedy=reason.remedy(cat))}")
    return lines


def search_summary(cat: Catalogue, found: TableSearch) -> list[str]:
    """What the automatic search looked for, how far it went, and what it found."""
    result = found.result
    inference = result.rules.max_share < 1
    lines = [
        cat.t(
            "risk.search.summary.rules" if inference else "risk.search.summary.rules_k",
            k=result.rules.k,
            share=format_percent(result.rules.max_share, cat.lang),
            suppression=format_percent(result.rules.suppression, cat.lang),
        )
    ]
    explored = {
        "evaluated": format_count(result.evaluated),
        "size": format_count(result.lattice_size),
    }
    if result.bounded and not result.optimal:
        lines.append(cat.t("risk.search.summary.bounded", **explored))
    else:
        lines.append(cat.t("risk.search.summary.explored", **explored))
    if result.solutions:
        lines.append(cat.t("risk.search.summary.found", count=len(result.solutions)))
        lines.append(cat.t("risk.search.summary.loss"))
    elif result.closest is not None:
        closest = "; ".join(rule_text(cat, r) for r in found.rules_of(result.closest) or ())
        lines.append(
            cat.t(
                "risk.search.summary.none",
                closest=closest or cat.t("risk.screen.no_rule"),
                smallest=format_count(result.closest.smallest),
                suppressed=format_count(result.closest.suppressed),
            )
        )
    return lines


MIN_ESTIMATE_SECONDS = 2.0  # before this, a time left would be a guess


def scan_progress_text(
    cat: Catalogue, item: str, done_bytes: int, total_bytes: int, elapsed: float
) -> str:
    """ "donnees/t.csv — 42 % · 510 Mo sur 1,2 Go lus · reste environ 3 min 05 s": the share of
    the bytes read, and the time left at the pace so far (once there is a pace to speak of)."""
    item = item or "…"
    if total_bytes <= 0:
        return cat.t("risk_journey.progress.item", item=item)
    share = min(max(done_bytes / total_bytes, 0.0), 1.0)
    lang = cat.lang
    figures = {
        "item": item,
        "percent": format_percent(share, lang),
        "done": format_size(min(done_bytes, total_bytes), lang),
        "total": format_size(total_bytes, lang),
    }
    if share <= 0 or elapsed < MIN_ESTIMATE_SECONDS:
        return cat.t("risk_journey.progress.share", **figures)
    left = elapsed * (1 - share) / share
    return cat.t("risk_journey.progress.left", left=format_duration(left, lang), **figures)
