"""The verdict rules of the three WP216 criteria, written once, with their sources.

The partner signs the anonymity step and is legally responsible for it: a criterion is said
"excluded" only when the rule below holds without doubt; anything else is "not excluded" with its
reasons, its figures and what would change it, and the partner must then justify it. The screen,
`hdh-wizard risk` and the report all read the verdicts from here.

The rules (each sentence and source is in the catalogue, `risk.verdict_rule.*`):
- Singling out (individualisation) is excluded when no record is in a class smaller than the
  threshold over the declared quasi-identifiers, no direct or persistent identifier is published,
  the threshold is not below the open-data default (11), and no quasi-identifier the wizard
  proposed was set aside. Lowering the threshold or setting a proposed quasi-identifier aside is
  allowed, but then the criterion needs the partner's justification, which the report shows
  beside the figures. A guard figure, the share of unique records over every published column
  that is not sensitive, is always shown: far above the declared figure, quasi-identifiers may be
  missing.
- Linkability (corrélation) is excluded when no record is in a class below the threshold
  (WP216: grouping that leaves small classes does not protect against linkability; classes
  combine every quasi-identifier), no persistent identifier is published, and no published
  column holds exact dates or fine geography.
- Inference is excluded when at least one sensitive attribute is declared and, for each, no
  class lets its value be deduced: no class where every record shares it (distinct l = 1), and no
  class where one value reaches the confidence bound (90 % by default).
- A table the partner declares to describe no person (a slide → stage mapping: no row is about
  someone) has no quasi-identifier; its three criteria are excluded when the declaration gives a
  reason and nothing published names or reaches a person (no direct identifier by name or
  content). The reason is shown beside each verdict. Source: GDPR recital 26 (information that
  does not relate to an identified or identifiable natural person is not personal data) and
  WP216 §2 (the criteria concern individuals). `no_person` below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.inspect.risk.identifiers import Role
from hdh_wizard.inspect.risk.linkability import LinkReason
from hdh_wizard.inspect.risk.measures import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from hdh_wizard.inspect.risk.analysis import TableRisk

# The guard figure says quasi-identifiers may be missing when its share of unique records is at
# least this many times the declared one, and at least GUARD_MARGIN above it.
GUARD_RATIO = 2.0
GUARD_MARGIN = 0.05


class Criterion(StrEnum):
    SINGLING_OUT = "singling_out"
    LINKABILITY = "linkability"
    INFERENCE = "inference"


@dataclass(frozen=True)
class Reason:
    """Why a criterion is not excluded: a catalogue key (`risk.reason.<key>`), its parameters,
    and what would change it (`risk.remedy.<key>`)."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)

    def text(self, cat: Catalogue) -> str:
        return cat.t(f"risk.reason.{self.key}", **self.params)

    def remedy(self, cat: Catalogue) -> str:
        return cat.t(f"risk.remedy.{self.key}", **self.params)


@dataclass(frozen=True)
class Verdict:
    criterion: Criterion
    reasons: tuple[Reason, ...]  # empty: the criterion is excluded
    figures: Mapping[str, object]  # what the rule read, for the report
    warnings: tuple[Reason, ...] = ()  # shown beside the verdict, deciding nothing

    @property
    def excluded(self) -> bool:
        return not self.reasons

    def to_json(self, cat: Catalogue) -> dict[str, object]:
        """The verdict in words, for a reader of the JSON report."""
        return {
            "excluded": self.excluded,
            "rule": rule_sentence(cat, self.criterion),
            "source": rule_source(cat, self.criterion),
            "reasons": [_reason_json(r, cat) for r in self.reasons],
            "warnings": [_reason_json(r, cat) for r in self.warnings],
            "figures": dict(self.figures),
        }


def _reason_json(reason: Reason, cat: Catalogue) -> dict[str, object]:
    return {"key": reason.key, "text": reason.text(cat), "remedy": reason.remedy(cat)}


def rule_sentence(cat: Catalogue, criterion: Criterion) -> str:
    """The criterion's rule in one sentence."""
    return cat.t(f"risk.verdict_rule.{criterion.value}.sentence", threshold=DEFAULT_THRESHOLD)


def rule_source(cat: Catalogue, criterion: Criterion) -> str:
    """Where the rule comes from (published guidance)."""
    return cat.t(f"risk.verdict_rule.{criterion.value}.source")


def demoted_quasi_identifiers(risk: TableRisk) -> tuple[str, ...]:
    """Columns the wizard proposed as quasi-identifiers that the partner set aside (neither
    declared nor removed): they no longer count in the classes."""
    dropped = risk.choice.dropped
    return tuple(
        c
        for c, role in risk.scan.roles.items()
        if role is Role.QUASI and c not in risk.choice.quasi and c not in dropped
    )


def _names(columns: tuple[str, ...] | list[str]) -> str:
    return ", ".join(columns)


def _persistent(risk: TableRisk) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(x.column for x in risk.links if x.reason is LinkReason.PERSISTENT_ID)
    )


# As long as a criterion's justification (`step.MIN_JUSTIFICATION`): a sentence, not "ok".
NO_PERSON_REASON_MIN = 40


def no_person(risk: TableRisk, criterion: Criterion) -> Verdict:
    """The rule for a table declared to describe no person (see the module's docstring)."""
    reasons: list[Reason] = []
    # A column that names a person contradicts the declaration: never "excluded" then. (A join
    # key such as a slide code is judged where it meets the people: in their table's verdict.)
    if risk.direct_left:
        reasons.append(Reason("no_person_contradicted", {"columns": _names(risk.direct_left)}))
    if len(risk.choice.no_person.strip()) < NO_PERSON_REASON_MIN:
        reasons.append(Reason("no_person_reason_short", {"min": NO_PERSON_REASON_MIN}))
    figures: dict[str, object] = {
        "no_person": risk.choice.no_person.strip(),
        "records": risk.final.records,
    }
    warning = Reason("no_person", {"reason": risk.choice.no_person.strip()})
    return Verdict(criterion, tuple(reasons), figures, (warning,))


def no_person_rule(cat: Catalogue) -> tuple[str, str]:
    """The rule for tables declared to describe no person, and its source."""
    return cat.t("risk.verdict_rule.no_person.sentence"), cat.t(
        "risk.verdict_rule.no_person.source"
    )


def singling_out(risk: TableRisk) -> Verdict:
    final = risk.final
    threshold = risk.choice.threshold
    reasons: list[Reason] = []
    if final.records_in_small:
        reasons.append(
            Reason(
                "small_classes",
                {
                    "records": final.records_in_small,
                    "classes": final.small_classes,
                    "threshold": threshold,
                    "unique": final.unique_records,
                },
            )
        )
    if risk.direct_left:
        reasons.append(Reason("direct_left", {"columns": _names(risk.direct_left)}))
    persistent = _persistent(risk)
    if persistent:
        reasons.append(Reason("persistent_id", {"columns": _names(persistent)}))
    if threshold < DEFAULT_THRESHOLD:
        reasons.append(
            Reason("threshold_lowered", {"threshold": threshold, "default": DEFAULT_THRESHOLD})
        )
    demoted = demoted_quasi_identifiers(risk)
    if demoted:
        reasons.append(Reason("demoted", {"columns": _names(demoted)}))
    figures: dict[str, object] = {
        "records": final.records,
        "threshold": threshold,
        "k": final.k,
        "records_in_small": final.records_in_small,
        "unique_records": final.unique_records,
    }
    warnings: list[Reason] = []
    guard = risk.guard
    if guard is not None:
        figures["guard_unique_records"] = guard.unique_records
        figures["guard_columns"] = len(guard.quasi_identifiers)
        declared, wider = final.share_unique, guard.share_unique
        if wider >= declared * GUARD_RATIO and wider >= declared + GUARD_MARGIN:
            warnings.append(
                Reason(
                    "guard",
                    {
                        "unique": guard.unique_records,
                        "records": guard.records,
                        "declared": final.unique_records,
                    },
                )
            )
    return Verdict(Criterion.SINGLING_OUT, tuple(reasons), figures, tuple(warnings))


def linkability(risk: TableRisk) -> Verdict:
    final = risk.final
    reasons: list[Reason] = []
    if final.records_in_small:
        reasons.append(
            Reason(
                "linkable_classes",
                {"records": final.records_in_small, "threshold": risk.choice.threshold},
            )
        )
    if risk.direct_left:
        reasons.append(Reason("direct_left", {"columns": _names(risk.direct_left)}))
    persistent = _persistent(risk)
    if persistent:
        reasons.append(Reason("persistent_id", {"columns": _names(persistent)}))
    dates = tuple(dict.fromkeys(x.column for x in risk.links if x.reason is LinkReason.EXACT_DATE))
    if dates:
        reasons.append(Reason("exact_dates", {"columns": _names(dates)}))
    places = tuple(
        dict.fromkeys(x.column for x in risk.links if x.reason is LinkReason.FINE_GEOGRAPHY)
    )
    if places:
        reasons.append(Reason("fine_geography", {"columns": _names(places)}))
    figures: dict[str, object] = {
        "records_in_small": final.records_in_small,
        "threshold": risk.choice.threshold,
        "persistent_identifiers": len(persistent),
        "exact_date_columns": len(dates),
        "fine_geography_columns": len(places),
    }
    return Verdict(Criterion.LINKABILITY, tuple(reasons), figures)


def inference(risk: TableRisk) -> Verdict:
    final = risk.final
    reasons: list[Reason] = []
    if not final.diversity:
        reasons.append(Reason("no_sensitive"))
    for d in final.diversity:
        if d.inferable:
            reasons.append(
                Reason(
                    "inferable",
                    {
                        "column": d.column,
                        "records": max(d.records_dominated, d.records_l1),
                        "confidence": round(d.confidence * 100),
                        "unanimous": d.records_l1,
                    },
                )
            )
    figures: dict[str, object] = {
        f"{d.column}": {
            "distinct_l": d.smallest_l,
            "entropy_l": round(d.smallest_entropy_l, 3),
            "largest_share": round(d.largest_share, 4),
            "records_inferable": max(d.records_dominated, d.records_l1),
            "confidence": d.confidence,
        }
        for d in final.diversity
    }
    return Verdict(Criterion.INFERENCE, tuple(reasons), figures)


_JUDGES = {
    Criterion.SINGLING_OUT: singling_out,
    Criterion.LINKABILITY: linkability,
    Criterion.INFERENCE: inference,
}


def judge(risk: TableRisk, criterion: Criterion) -> Verdict:
    if risk.choice.declares_no_person:
        return no_person(risk, criterion)
    return _JUDGES[criterion](risk)
