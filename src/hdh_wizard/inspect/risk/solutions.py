"""From "risk remains" to publishable: the automatic search, on the partner's choice of a table.

Used by the anonymity screen and by `hdh-wizard risk --search`. Each declared quasi-identifier
gets its built-in hierarchy (`levels`), whose levels are exactly the wizard's generalisation
rules, unless the partner gives a hierarchy file in ARX's format: a solution over built-in
hierarchies is a set of rules the partner can apply, see measured and edit, as if chosen by
hand. The search meets the same rules as the verdict: the threshold, and no class where one
sensitive value reaches the inference confidence bound. The partner's rules on the other
columns (removed columns, rare values grouped in a sensitive attribute) are applied first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.risk.analysis import Choice
from hdh_wizard.inspect.risk.generalise import ColumnRule, generalise
from hdh_wizard.inspect.risk.hierarchies import Hierarchy, HierarchyBuilder
from hdh_wizard.inspect.risk.levels import Levels, builtin_levels, file_levels
from hdh_wizard.inspect.risk.measures import DEFAULT_CONFIDENCE
from hdh_wizard.inspect.risk.search import NodeResult, Rules, SearchResult, check_rules, search
from hdh_wizard.inspect.risk.tables import Table

# The search fails a class when one value's share is above its bound; the verdict counts a
# share AT the confidence bound as inferable: the search's bound sits a hair below.
INFERENCE_SHARE = DEFAULT_CONFIDENCE - 2e-9


@dataclass(frozen=True)
class TableSearch:
    """A table's search: its result, each quasi-identifier's levels, the partner's other rules."""

    result: SearchResult
    levels: Mapping[str, Levels]
    kept_rules: tuple[ColumnRule, ...] = ()  # the partner's rules on the other columns
    sensitive: tuple[str, ...] = ()  # the attributes the inference bound applied to

    def rules_of(self, node: NodeResult) -> tuple[ColumnRule, ...] | None:
        """The rules a solution stands for on the quasi-identifiers; None when it uses a level
        of a hierarchy file, which no rule of the wizard gives."""
        rules: list[ColumnRule] = []
        for column, level in zip(self.result.quasi_identifiers, node.levels, strict=True):
            found = self.levels[column]
            if found.kind is None:
                if level:
                    return None
                continue
            rule = found.rule(level)
            if rule is not None:
                rules.append(rule)
        return tuple(rules)

    def all_rules(self, node: NodeResult) -> tuple[ColumnRule, ...] | None:
        """Every rule of the choice a solution makes (the partner's others included)."""
        own = self.rules_of(node)
        return None if own is None else self.kept_rules + own


@dataclass
class _Built:
    """The levels each column got, once the search has read the column's distinct values."""

    levels: dict[str, Levels] = field(default_factory=dict)

    def builder(self, column: str) -> HierarchyBuilder:
        def build(values: Sequence[str]) -> Hierarchy:
            self.levels[column] = built = builtin_levels(column, values)
            return built.hierarchy

        return build


def search_table(
    table: Table,
    choice: Choice,
    *,
    suppression: object = 0.0,
    inference: bool = True,
    hierarchies: Mapping[str, tuple[Hierarchy, str]] | None = None,
    check: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TableSearch:
    """The least generalisations of the choice's quasi-identifiers that meet the rules.

    Columns the choice removes are left out; sensitive attributes count for inference (unless
    `inference` is False). `hierarchies`: files given by the partner (hierarchy, file name) for
    some quasi-identifiers. Reads the table once (see `search`); raises `Cancelled` from
    `check`, `HdhWizardError` on bad input (a budget out of range, a hierarchy for a column that
    is not a quasi-identifier…).
    """
    given_files = hierarchies or {}
    quasi = [c for c in choice.quasi if c not in choice.dropped]
    sensitive = [c for c in choice.sensitive if c not in choice.dropped] if inference else []
    for name in given_files:
        if name not in quasi:
            raise HdhWizardError(
                "risk.search.error.hierarchy_column",
                table=table.name,
                column=name,
                quasi=", ".join(quasi) or "—",
            )
    bound = INFERENCE_SHARE if sensitive else 1.0
    rules: Rules = check_rules(choice.threshold, suppression, 1, bound)
    kept_rules = tuple(r for r in choice.rules if r.column not in quasi)
    built = _Built()
    given: dict[str, Hierarchy | HierarchyBuilder] = {}
    for name in quasi:
        if name in given_files:
            hierarchy, source = given_files[name]
            built.levels[name] = file_levels(name, hierarchy, source)
            given[name] = hierarchy
        else:
            given[name] = built.builder(name)
    frame = generalise(table.frame, kept_rules)
    result = search(frame, given, rules, sensitive, check=check, progress=progress)
    return TableSearch(result, dict(built.levels), kept_rules, tuple(sensitive))


def apply_solution(choice: Choice, found: TableSearch, node: NodeResult) -> Choice:
    """The choice with a solution's rules on its quasi-identifiers; other rules are kept."""
    rules = found.all_rules(node)
    if rules is None:
        return choice  # a hierarchy file's level: not a rule of the wizard
    return Choice(choice.quasi, choice.sensitive, choice.threshold, rules)
