"""From "risk remains" to publishable: the automatic search, on the partner's choice of a table.

Each declared quasi-identifier gets a built-in hierarchy by what it holds (ages, dates, French
geography, or any other value), whose levels are exactly the wizard's generalisation rules:
age 1 → 5 → 10 → 20 years → removed, date day → month → quarter → year → removed, commune →
département → région → removed, value → removed. A solution of the search is therefore a set of
rules the partner can apply, see measured and edit, as if chosen by hand. The search meets the
same rules as the verdict: the threshold, and no class where one sensitive value reaches the
inference confidence bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from hdh_wizard.inspect.risk.analysis import Choice
from hdh_wizard.inspect.risk.generalise import Coarsening, ColumnRule
from hdh_wizard.inspect.risk.hierarchies import (
    Hierarchy,
    HierarchyBuilder,
    age_hierarchy,
    categorical_hierarchy,
    date_hierarchy,
    departement_of,
    geography_hierarchy,
    read_date,
)
from hdh_wizard.inspect.risk.identifiers import fold
from hdh_wizard.inspect.risk.measures import DEFAULT_CONFIDENCE
from hdh_wizard.inspect.risk.search import NodeResult, Rules, SearchResult, search
from hdh_wizard.inspect.risk.tables import Table

# A column is read as ages, dates or places when at least this share of its distinct values is.
KIND_SHARE = 0.8
_AGE_WORDS = frozenset({"age", "ages"})
_PLACE_WORDS = frozenset(
    {"commune", "insee", "departement", "dept", "dep", "postal", "cp", "region", "depcom"}
)
# The search's inference bound sits just under the verdict's: the verdict counts a class as
# inferable when one value reaches the bound, the search lets a class through at the bound.
_SHARE_MARGIN = 1e-6


class Kind(StrEnum):
    AGE = "age"
    DATE = "date"
    GEOGRAPHY = "geography"
    CATEGORICAL = "categorical"


# The rule each level of a built-in hierarchy stands for (level 0: the value as it is).
LEVEL_RULES: dict[Kind, tuple[Coarsening | None, ...]] = {
    Kind.AGE: (None, Coarsening.AGE_5, Coarsening.AGE_10, Coarsening.AGE_20, Coarsening.DROP),
    Kind.DATE: (None, Coarsening.MONTH, Coarsening.QUARTER, Coarsening.YEAR, Coarsening.DROP),
    Kind.GEOGRAPHY: (None, Coarsening.DEPARTEMENT, Coarsening.REGION, Coarsening.DROP),
    Kind.CATEGORICAL: (None, Coarsening.DROP),
}
_BUILDERS: dict[Kind, Callable[[Sequence[str], str], Hierarchy]] = {
    Kind.AGE: age_hierarchy,
    Kind.DATE: date_hierarchy,
    Kind.GEOGRAPHY: geography_hierarchy,
    Kind.CATEGORICAL: categorical_hierarchy,
}


def kind_of(name: str, values: Sequence[str]) -> Kind:
    """What a quasi-identifier holds, by its values, its name deciding between ages and codes."""
    present = [v for v in values if v and v.strip()]
    if not present:
        return Kind.CATEGORICAL

    def share(test: Callable[[str], bool]) -> float:
        return sum(1 for v in present if test(v)) / len(present)

    words = set(fold(name).split())
    if share(lambda v: read_date(v) is not None) >= KIND_SHARE:
        return Kind.DATE
    if words & _PLACE_WORDS and share(lambda v: departement_of(v) is not None) >= KIND_SHARE:
        return Kind.GEOGRAPHY
    if words & _AGE_WORDS and share(_is_age) >= KIND_SHARE:
        return Kind.AGE
    return Kind.CATEGORICAL


def _is_age(value: str) -> bool:
    try:
        return 0 <= float(value.strip().replace(",", ".")) < 151
    except ValueError:
        return False


@dataclass
class _Kinds:
    """The kind each column's builder chose, once the search has read the column's values."""

    found: dict[str, Kind]

    def builder(self, column: str) -> HierarchyBuilder:
        def build(values: Sequence[str]) -> Hierarchy:
            kind = kind_of(column, values)
            self.found[column] = kind
            return _BUILDERS[kind](values, column)

        return build


@dataclass(frozen=True)
class TableSearch:
    """A table's search: its result, and the kind of hierarchy each column was given."""

    result: SearchResult
    kinds: dict[str, Kind]

    def rules_of(self, node: NodeResult) -> tuple[ColumnRule, ...]:
        """The generalisation rules a solution stands for."""
        rules = []
        for column, level in zip(self.result.quasi_identifiers, node.levels, strict=True):
            coarsening = LEVEL_RULES[self.kinds[column]][level]
            if coarsening is not None:
                rules.append(ColumnRule(column, coarsening))
        return tuple(rules)


def search_rules(choice: Choice, suppression: float = 0.0, inference: bool = True) -> Rules:
    """What a solution must meet: the verdict's threshold, and its inference bound unless the
    partner leaves inference aside (to be justified separately)."""
    bound = inference and bool(choice.sensitive)
    max_share = DEFAULT_CONFIDENCE - _SHARE_MARGIN if bound else 1.0
    return Rules(k=choice.threshold, suppression=suppression, max_share=max_share)


def search_table(
    table: Table,
    choice: Choice,
    *,
    suppression: float = 0.0,
    inference: bool = True,
    check: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TableSearch:
    """The least generalisations of the choice's quasi-identifiers that meet the rules.

    Columns the choice removes are left out; sensitive attributes count for inference (unless
    `inference` is False). Reads the table once (see `search`); raises `Cancelled` from `check`,
    `HdhWizardError` on bad input.
    """
    quasi = [c for c in choice.quasi if c not in choice.dropped]
    sensitive = [c for c in choice.sensitive if c not in choice.dropped] if inference else []
    kinds = _Kinds({})
    result = search(
        table.frame,
        {c: kinds.builder(c) for c in quasi},
        search_rules(choice, suppression, inference),
        sensitive,
        check=check,
        progress=progress,
    )
    return TableSearch(result, dict(kinds.found))


def apply_solution(choice: Choice, found: TableSearch, node: NodeResult) -> Choice:
    """The choice with a solution's rules on its quasi-identifiers; other rules are kept."""
    quasi = set(found.result.quasi_identifiers)
    kept = tuple(r for r in choice.rules if r.column not in quasi)
    return Choice(choice.quasi, choice.sensitive, choice.threshold, kept + found.rules_of(node))
