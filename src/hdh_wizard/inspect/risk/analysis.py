"""One table's identification-risk analysis: what identifies, and the three WP216 criteria.

`scan_table` looks at a table once (identifying columns, the roles proposed for each column);
`assess` measures it for the partner's choice of quasi-identifiers, sensitive attributes,
threshold and generalisation rules, before and after the rules, so the two can be compared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.risk.generalise import (
    Coarsening,
    ColumnRule,
    check_rules,
    generalise,
    rule_from_state,
)
from hdh_wizard.inspect.risk.identifiers import (
    Finding,
    IdRule,
    Role,
    direct_identifier_name,
    propose_role,
)
from hdh_wizard.inspect.risk.linkability import (
    ColumnFacts,
    Link,
    LinkReason,
    candidates,
    column_facts,
    content_and_facts,
    distinct_values,
    find_links,
    persistent_identifier_name,
    with_exact,
)
from hdh_wizard.inspect.risk.measures import (
    DEFAULT_THRESHOLD,
    RiskMeasures,
    check_columns,
    check_threshold,
    measure_risk,
    measure_with_guard,
)
from hdh_wizard.inspect.risk.tables import Table
from hdh_wizard.inspect.risk.verdicts import Criterion, Verdict, judge
from hdh_wizard.phases import phase

__all__ = ["Criterion"]  # defined with the verdict rules; imported from here by most callers

# Content that names or reaches a person: it must leave the published table.
DIRECT_RULES = frozenset(
    {IdRule.NAME, IdRule.NIR, IdRule.PHONE, IdRule.EMAIL, IdRule.IPV4, IdRule.FREE_TEXT}
)
# Content that narrows a person down: a quasi-identifier.
QUASI_RULES = frozenset({IdRule.BIRTH_DATE, IdRule.POSTAL_CODE, IdRule.COMMUNE_CODE})
BIRTH_DATE_NAME = "date_naissance"  # direct_identifier_name's label for a date of birth


def is_direct(finding: Finding) -> bool:
    """Whether a finding names or reaches a person. A date of birth is a strong quasi-identifier
    rather: reduced to the year, it may stay (its exactness is a linkability finding)."""
    if finding.rule is IdRule.NAME and direct_identifier_name(finding.column) == BIRTH_DATE_NAME:
        return False
    return finding.rule in DIRECT_RULES


@dataclass(frozen=True)
class TableScan:
    table: str
    columns: tuple[str, ...]
    findings: tuple[Finding, ...]
    roles: dict[str, Role]  # proposed; the partner confirms or edits them
    # What links in each column (distinct values, exact dates), read in the scan's own pass; the
    # columns that could be near-unique are counted exactly by `assess`, in the measure's pass.
    facts: tuple[ColumnFacts, ...] = ()

    def with_role(self, role: Role) -> tuple[str, ...]:
        return tuple(c for c in self.columns if self.roles[c] is role)


@dataclass(frozen=True)
class Choice:
    """The partner's decisions for one table."""

    quasi: tuple[str, ...]
    sensitive: tuple[str, ...] = ()
    threshold: int = DEFAULT_THRESHOLD
    rules: tuple[ColumnRule, ...] = ()
    # The partner's reason for declaring that the table describes no person (a slide → stage
    # mapping): it has no quasi-identifier, and the verdicts follow `verdicts.no_person`.
    no_person: str = ""

    @property
    def declares_no_person(self) -> bool:
        return bool(self.no_person.strip())

    @property
    def dropped(self) -> frozenset[str]:
        return frozenset(r.column for r in self.rules if r.coarsening is Coarsening.DROP)

    @property
    def rekeyed(self) -> frozenset[str]:
        """Persistent identifiers replaced by a random code per release (`rekey`)."""
        return frozenset(r.column for r in self.rules if r.coarsening is Coarsening.REKEY)


@dataclass(frozen=True)
class TableRisk:
    scan: TableScan
    choice: Choice
    original: RiskMeasures
    published: RiskMeasures | None  # after the rules; None when there are none
    published_findings: tuple[Finding, ...]
    links: tuple[Link, ...]  # in the published columns
    published_columns: tuple[str, ...] = field(default=())
    # Unique records over every published column that is not sensitive: the guard figure that
    # shows quasi-identifiers may be missing (see verdicts).
    guard: RiskMeasures | None = None

    @property
    def final(self) -> RiskMeasures:
        return self.published or self.original

    @property
    def direct_left(self) -> tuple[str, ...]:
        """Columns still published that identify directly (by name or content)."""
        found = {f.column for f in self.published_findings if is_direct(f)}
        return tuple(c for c in self.published_columns if c in found)

    def verdict(self, criterion: Criterion) -> Verdict:
        """The criterion's verdict under the rules of `verdicts`, with its reasons and figures."""
        return judge(self, criterion)

    def excluded(self, criterion: Criterion) -> bool:
        """True when the rules exclude the criterion; else the partner must justify."""
        return self.verdict(criterion).excluded


def scan_table(table: Table) -> TableScan:
    """Identifying content over the whole table, the proposed role of each column, and what
    links in each column: one reading of the file (and a short one per finding's examples)."""
    columns = tuple(table.columns)
    with phase("identifiers"):
        # The near-unique candidates stay estimated: `assess` counts them in its own reading.
        found, facts = content_and_facts(table.frame, columns, exact=False)
    findings = tuple(found)
    roles = propose_roles(columns, findings)
    return TableScan(table.name, columns, findings, roles, tuple(facts))


def propose_roles(columns: Sequence[str], findings: Sequence[Finding]) -> dict[str, Role]:
    roles = {c: propose_role(c) for c in columns}
    for name in columns:
        if direct_identifier_name(name) == BIRTH_DATE_NAME:
            roles[name] = Role.QUASI
        elif persistent_identifier_name(name):
            # A stable code per patient or stay links the records to the same person elsewhere
            # (and across releases): removed by default; kept, linkability must be justified.
            roles[name] = Role.DIRECT
    for finding in findings:
        if is_direct(finding):
            roles[finding.column] = Role.DIRECT
        elif finding.rule in QUASI_RULES and roles[finding.column] is not Role.DIRECT:
            roles[finding.column] = Role.QUASI
    return roles


def default_choice(scan: TableScan) -> Choice:
    """The proposed roles as a choice: direct identifiers dropped, measures on the others."""
    drops = tuple(ColumnRule(c, Coarsening.DROP) for c in scan.with_role(Role.DIRECT))
    return Choice(scan.with_role(Role.QUASI), scan.with_role(Role.SENSITIVE), rules=drops)


def resolve_names(given: Sequence[str], columns: Sequence[str]) -> tuple[str, ...]:
    """Names as the partner typed them, matched to the file's: " age " in a header is "age"."""
    resolved = []
    for name in given:
        if name not in columns:
            matches = [c for c in columns if c.strip() == name.strip()]
            if len(matches) == 1:
                name = matches[0]
        resolved.append(name)
    return tuple(resolved)


def check_choice(scan: TableScan, choice: Choice) -> None:
    """Raises HdhWizardError naming what is wrong with the partner's choice."""
    check_columns(
        scan.columns,
        choice.quasi,
        choice.sensitive,
        scan.table,
        no_quasi_allowed=choice.declares_no_person,
    )
    check_rules(choice.rules, scan.columns, scan.table)
    if scan.columns and choice.dropped >= set(scan.columns):
        raise HdhWizardError("risk.error.nothing_left", table=scan.table)


def assess_passes(choice: Choice) -> int:
    """How many readings of the table `assess` makes (each ends with its `passed` call)."""
    return 3 if choice.rules else 1


def assess(
    table: Table,
    scan: TableScan,
    choice: Choice,
    progress: Progress | None = None,
    passed: Callable[[], None] | None = None,
) -> TableRisk:
    """The measures before and after the rules, and what is left that links or identifies.
    `passed` is called after each full reading of the table (`assess_passes`), to show progress."""

    def one_pass() -> None:
        if passed is not None:
            passed()

    check_choice(scan, choice)
    if not choice.rules:
        # The facts' candidates for near-unique are counted exactly in the measure's reading. A
        # scan made by hand (tests, an older cache) may not carry its facts: they are read then.
        if len(scan.facts) == len(scan.columns):
            facts = list(scan.facts)
            frame, distinct = distinct_values(table.frame, candidates(facts))
        else:
            facts = column_facts(table.frame)
            frame, distinct = table.frame, {}
        with phase("measures"):
            original, guard, counted = measure_with_guard(
                frame,
                choice.quasi,
                choice.sensitive,
                choice.threshold,
                _guarded(scan.columns, choice),
                progress,
                distinct=distinct,
            )
        one_pass()
        links = find_links(with_exact(facts, counted), scan.findings)
        return TableRisk(
            scan,
            choice,
            original,
            None,
            scan.findings,
            tuple(links),
            scan.columns,
            _with_columns(guard, scan.columns, choice),
        )
    with phase("measures"):
        original = measure_risk(
            table.frame, choice.quasi, choice.sensitive, choice.threshold, progress
        )
    one_pass()
    generalised = generalise(table.frame, choice.rules)
    kept = tuple(c for c in scan.columns if c not in choice.dropped)
    quasi = tuple(c for c in choice.quasi if c not in choice.dropped)
    sensitive = tuple(c for c in choice.sensitive if c not in choice.dropped)
    if progress is not None:
        progress.check()
    with phase("identifiers"):
        found, estimated = content_and_facts(generalised, kept, exact=False)
    findings = tuple(found)
    one_pass()
    frame, distinct = distinct_values(generalised, candidates(estimated))
    with phase("measures"):
        published, guard, counted = measure_with_guard(
            frame,
            quasi,
            sensitive,
            choice.threshold,
            _guarded(kept, choice),
            progress,
            distinct=distinct,
        )
    one_pass()
    # A re-keyed identifier still tells the release's records apart, but links them to nothing
    # outside it (its codes are new): it is no longer a persistent identifier.
    links = [
        x
        for x in find_links(with_exact(estimated, counted), findings)
        if not (x.reason is LinkReason.PERSISTENT_ID and x.column in choice.rekeyed)
    ]
    return TableRisk(
        scan,
        choice,
        original,
        published,
        findings,
        tuple(links),
        kept,
        _with_columns(guard, kept, choice),
    )


def _guarded(published: Sequence[str], choice: Choice) -> tuple[str, ...]:
    """The guard's columns: every published column that is not declared sensitive.

    Its figure is the unique records over them (see verdicts): counted on a 64-bit hash of each
    row's values (`measure_with_guard`) rather than the values themselves, since with every column
    in the key the classes are nearly the rows and their text would be held whole. A collision
    (probability under n²/2^65) could only merge two rows and lower the figure by two; the figure
    is shown, it decides nothing. A code per record, re-keyed or not, makes every record unique:
    it says nothing of what an attacker could know, so it stays out of the guard.
    """
    return tuple(c for c in published if c not in choice.sensitive and c not in choice.rekeyed)


def _with_columns(
    guard: RiskMeasures | None, published: Sequence[str], choice: Choice
) -> RiskMeasures | None:
    if guard is None:
        return None
    return replace(guard, quasi_identifiers=_guarded(published, choice))


# --- the partner's edits of a choice, as the screen offers them ------------------------------


def role_in(choice: Choice, column: str) -> Role:
    """The role a column has in a choice: a removed column is a direct identifier."""
    if column in choice.quasi:
        return Role.QUASI
    if column in choice.sensitive:
        return Role.SENSITIVE
    if column in choice.dropped:
        return Role.DIRECT
    return Role.OTHER


def rule_on(choice: Choice, column: str) -> ColumnRule | None:
    return next((r for r in choice.rules if r.column == column), None)


def with_role(choice: Choice, column: str, role: Role) -> Choice:
    """A direct identifier is removed from the published copy; other roles keep the column."""
    quasi = tuple(c for c in choice.quasi if c != column)
    sensitive = tuple(c for c in choice.sensitive if c != column)
    rules = tuple(r for r in choice.rules if r.column != column)
    if role is Role.QUASI:
        quasi += (column,)
    elif role is Role.SENSITIVE:
        sensitive += (column,)
    elif role is Role.DIRECT:
        rules += (ColumnRule(column, Coarsening.DROP),)
    kept = rule_on(choice, column)
    if role is not Role.DIRECT and kept is not None and kept.coarsening is not Coarsening.DROP:
        rules += (kept,)
    # A quasi-identifier contradicts "this table describes no person": the declaration goes.
    no_person = "" if role is Role.QUASI else choice.no_person
    return Choice(quasi, sensitive, choice.threshold, rules, no_person)


def with_no_person(choice: Choice, reason: str) -> Choice:
    """Declare (a reason) or withdraw (empty) that the table describes no person: its
    quasi-identifiers, if any, become ordinary columns."""
    if not reason.strip():
        return replace(choice, no_person="")
    return replace(choice, quasi=(), no_person=reason)


def with_rule(choice: Choice, column: str, rule: ColumnRule | None) -> Choice:
    """Set or clear a column's generalisation; dropping it makes it a direct identifier."""
    if rule is not None and rule.coarsening is Coarsening.DROP:
        return with_role(choice, column, Role.DIRECT)
    rules = tuple(r for r in choice.rules if r.column != column)
    if rule is not None:
        rules += (rule,)
    return replace(choice, rules=rules)


def choice_to_state(choice: Choice) -> dict[str, object]:
    return {
        "quasi_identifiers": list(choice.quasi),
        "sensitive": list(choice.sensitive),
        "threshold": choice.threshold,
        "rules": [r.to_state() for r in choice.rules],
        **({"no_person": choice.no_person} if choice.declares_no_person else {}),
    }


def choice_from_state(data: object, scan: TableScan) -> Choice | None:
    """A saved choice, if it still fits the table (its columns may have changed since)."""
    if not isinstance(data, dict):
        return None
    try:
        quasi = tuple(str(c) for c in data.get("quasi_identifiers", []))
        sensitive = tuple(str(c) for c in data.get("sensitive", []))
        threshold = check_threshold(data.get("threshold", DEFAULT_THRESHOLD))
        rules = tuple(rule_from_state(r) for r in data.get("rules", []) if isinstance(r, dict))
        no_person = str(data.get("no_person", "") or "")
        choice = Choice(quasi, sensitive, threshold, rules, no_person)
        check_choice(scan, choice)
    except (HdhWizardError, TypeError, ValueError):
        return None
    return choice
