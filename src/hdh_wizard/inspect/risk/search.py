"""The least generalisation meeting the anonymity rules, found as ARX does, on files of any size.

A solution is a node of the generalisation lattice: one hierarchy level per quasi-identifier.
The search is ARX-compatible: the same rules (k-anonymity with a record-suppression budget;
distinct l-diversity; a bound on the largest share of one sensitive value in a class, a class
breaking any rule being suppressed as a whole, as ARX does) and ARX's default utility measure,
`Metric.createLossMetric()` (see `loss`), so a partner can check our answer in ARX.

ARX holds the whole table in memory; a health table can be several GB. Here the file is read
ONCE, streaming: polars groups it by the quasi-identifiers' values (and, per sensitive attribute,
counts the values within each class). Every node is then computed from that in-memory class
table, by mapping each column through its hierarchy and rolling the counts up. Memory follows
the number of distinct combinations, not the number of rows, and a node is rolled up from the
smallest table already computed below it (its classes are unions of that table's classes).

The lattice can be huge (5 levels on 20 columns is 10^14 nodes). Nodes are visited in order of
ARX's lower bound of the loss (the loss without suppression, which only depends on each
column's level and never decreases with generalisation), so the search can stop as soon as no
unvisited node can beat the best one found: the optimum is then guaranteed. k-anonymity with
suppression and distinct l-diversity are monotone (ARX's Flash relies on it): when a node meets
them, every more general node does, and when it fails, every more specific one fails. Each
unknown node is first placed by a binary search on a chain of generalisations above it, which
settles whole regions of the lattice with a few cheap evaluations. The number of evaluated nodes
is bounded; a bounded search says whether its answer is proven optimal.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from numpy.typing import NDArray

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.risk.hierarchies import Hierarchy, HierarchyBuilder
from hdh_wizard.inspect.risk.measures import check_columns, check_threshold
from hdh_wizard.inspect.risk.tables import column

# Catalogue keys of the errors raised here.
ERROR_SUPPRESSION = "risk.search.error.suppression"  # value
ERROR_MAX_SHARE = "risk.search.error.max_share"  # value
ERROR_DIVERSITY = "risk.search.error.diversity"  # value
ERROR_MAX_NODES = "risk.search.error.max_nodes"  # value
ERROR_TOO_MANY_QUASI = "risk.search.error.too_many_quasi"  # count, limit

MAX_QUASI = 20
# The class table holds one row per combination of quasi-identifier (and sensitive) values, in
# memory: beyond this many (about 1 GiB), the search refuses before reading the data whole and
# says which columns hold the most values. Counted first with a HyperLogLog sketch (streaming,
# a few kB), so a near-unique table costs one quick pass, never the machine's memory.
MAX_COMBINATIONS = 5_000_000
ERROR_TOO_MANY_COMBINATIONS = "risk.search.error.too_many_combinations"  # count, limit, columns
DEFAULT_MAX_NODES = 2_000
DEFAULT_KEEP = 5
_DIGITS = 1e10  # ARX floors each column's loss to 10 decimals
_CACHE_ROWS = 3  # cached tables may hold up to this many times the class table's rows

Node = tuple[int, ...]
Codes = NDArray[np.int64]


@dataclass(frozen=True)
class Rules:
    """What a release must meet. `suppression` is the share of records that may be removed
    (0 ≤ s < 1); ARX allows floor(s × records) records."""

    k: int
    suppression: float = 0.0
    l_diversity: int = 1  # distinct values of each sensitive attribute per class, 1 = no rule
    max_share: float = 1.0  # largest share of one sensitive value in a class, 1 = no rule


@dataclass(frozen=True)
class NodeResult:
    """A node's measures. `suppressed` counts the records of classes that break a rule."""

    levels: Node
    classes: int  # classes left after suppression
    smallest: int  # size of the smallest class left (0 when everything is suppressed)
    suppressed: int
    loss: float  # ARX's Loss, 0 (the data as is) to 1 (everything removed)
    loss_per_column: tuple[float, ...]
    meets_rules: bool


@dataclass(frozen=True)
class SearchResult:
    records: int
    quasi_identifiers: tuple[str, ...]
    heights: tuple[int, ...]  # levels per quasi-identifier, the values themselves included
    rules: Rules
    solutions: tuple[NodeResult, ...]  # nodes meeting every rule, least loss first
    closest: NodeResult | None  # when no node meets the rules: the one that least breaks them
    lattice_size: int
    evaluated: int  # nodes whose classes were computed
    settled: int  # nodes visited (evaluated, or decided by monotonicity or the loss bound)
    optimal: bool  # True when the first solution is proven the least loss (or none exists)
    bounded: bool  # True when the search stopped at its node limit

    @property
    def best(self) -> NodeResult | None:
        return self.solutions[0] if self.solutions else None


def check_suppression(value: object) -> float:
    """A record-suppression budget: a number from 0 (included) to 1 (excluded), not text."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise HdhWizardError(ERROR_SUPPRESSION, value=str(value))
    return float(value)


def check_rules(
    k: object, suppression: object = 0.0, l_diversity: object = 1, max_share: object = 1.0
) -> Rules:
    """The rules from the caller, each checked: raises `HdhWizardError`."""
    threshold = check_threshold(k)
    budget = check_suppression(suppression)
    if isinstance(l_diversity, bool) or not isinstance(l_diversity, int) or l_diversity < 1:
        raise HdhWizardError(ERROR_DIVERSITY, value=str(l_diversity))
    if (
        isinstance(max_share, bool)
        or not isinstance(max_share, int | float)
        or not 0 < max_share <= 1
    ):
        raise HdhWizardError(ERROR_MAX_SHARE, value=str(max_share))
    return Rules(threshold, budget, l_diversity, float(max_share))


# --- ARX's Loss ----------------------------------------------------------------------------------


def normalise_loss(total: float, records: int, domain: int) -> float:
    """One column's Loss from the sum over records of the share of the domain their value covers.

    ARX (MetricMDNLoss, gs-factor 0.5 so generalisation and suppression weigh 1): the sum runs
    from records / domain (every value as is) to records (every value removed); it is rescaled to
    0..1, floored at 0 and floored to 10 decimals."""
    low = records / domain
    if records == 0 or records <= low:
        return 0.0
    value = max((total - low) / (records - low), 0.0)
    return math.floor(value * _DIGITS) / _DIGITS


def aggregate_loss(per_column: Sequence[float]) -> float:
    """ARX's default aggregation: the geometric mean of (1 + loss), minus 1 (equal weights)."""
    if not per_column:
        return 0.0
    product = 1.0
    for value in per_column:
        product *= (value + 1.0) ** (1.0 / len(per_column))
    return product - 1.0


# --- The class table -----------------------------------------------------------------------------


@dataclass
class _Dimension:
    """A quasi-identifier's hierarchy as integer codes: `maps[l][i]` is the code at level l of
    value i, `shares[l][c]` the share of the domain that code c of level l covers."""

    hierarchy: Hierarchy
    maps: list[Codes]
    shares: list[NDArray[np.float64]]
    _steps: dict[tuple[int, int], Codes] = field(default_factory=dict)

    @classmethod
    def of(cls, hierarchy: Hierarchy) -> _Dimension:
        maps: list[Codes] = []
        shares: list[NDArray[np.float64]] = []
        size = len(hierarchy.values)
        for labels in hierarchy.levels:
            index: dict[str, int] = {}
            codes = np.fromiter(
                (index.setdefault(label, len(index)) for label in labels), np.int64, size
            )
            maps.append(codes)
            shares.append(np.bincount(codes, minlength=len(index)) / size)
        return cls(hierarchy, maps, shares)

    def step(self, low: int, high: int) -> Codes:
        """Codes of level `low` → codes of level `high` (a function: one parent per value)."""
        if (low, high) not in self._steps:
            table = np.zeros(int(self.maps[low].max()) + 1, dtype=np.int64)
            table[self.maps[low]] = self.maps[high]
            self._steps[low, high] = table
        return self._steps[low, high]

    def cardinality(self, level: int) -> int:
        return len(self.shares[level])


@dataclass
class _Table:
    """Classes at some node: codes per quasi-identifier at that node's levels, record counts, and
    per sensitive attribute (class row, value code, count) triples."""

    codes: list[Codes]
    counts: Codes
    sensitive: list[tuple[Codes, Codes, Codes]]

    @property
    def rows(self) -> int:
        return len(self.counts)


def _class_table(
    frame: pl.LazyFrame, quasi: Sequence[str], sensitive: Sequence[str]
) -> tuple[pl.DataFrame, list[pl.Series]]:
    """The one pass over the file: a row per combination of quasi-identifier (and sensitive)
    values with its count, computed by polars' streaming engine. Empty values are a value ("")."""
    names = [*quasi, *sensitive]
    keys = [
        column(frame, name).cast(pl.String).fill_null("").alias(f"c{i}")
        for i, name in enumerate(names)
    ]
    grouped = frame.group_by(keys).agg(pl.len().alias("n")).collect(engine="streaming")
    distinct = [grouped.get_column(f"c{i}").unique() for i in range(len(quasi))]
    return grouped, distinct


def _check_combinations(
    frame: pl.LazyFrame, quasi: Sequence[str], sensitive: Sequence[str]
) -> None:
    """Refuse a search whose class table would not fit (see `MAX_COMBINATIONS`), naming the
    quasi-identifiers with the most distinct values: generalising them first is the way out."""
    names = [*quasi, *sensitive]
    texts = [column(frame, n).cast(pl.String) for n in names]
    sketches = [pl.struct(texts).hash(0x4844482D).approx_n_unique().alias("all")] + [
        text.approx_n_unique().alias(f"d{i}") for i, text in enumerate(texts[: len(quasi)])
    ]
    row = frame.select(sketches).collect(engine="streaming").row(0, named=True)
    if row["all"] <= MAX_COMBINATIONS:
        return
    widest = sorted(range(len(quasi)), key=lambda i: -row[f"d{i}"])[:3]
    raise HdhWizardError(
        ERROR_TOO_MANY_COMBINATIONS,
        count=row["all"],
        limit=MAX_COMBINATIONS,
        columns=", ".join(f"{quasi[i]} (≈{row[f'd{i}']})" for i in widest),
    )


def _encode(values: pl.Series, labels: Sequence[str]) -> Codes:
    index = pl.DataFrame({"v": list(labels), "i": range(len(labels))}, orient="col")
    mapped = values.to_frame("v").join(index, on="v", how="left", maintain_order="left")
    return mapped.get_column("i").to_numpy().astype(np.int64)


def _base_table(
    grouped: pl.DataFrame, dimensions: Sequence[_Dimension], sensitive_count: int
) -> _Table:
    quasi = len(dimensions)
    codes = [
        _encode(grouped.get_column(f"c{i}"), dimensions[i].hierarchy.values) for i in range(quasi)
    ]
    coded = pl.DataFrame(
        {**{f"q{i}": codes[i] for i in range(quasi)}, "n": grouped.get_column("n")}
    )
    if not sensitive_count:
        rolled = coded.group_by([f"q{i}" for i in range(quasi)]).agg(pl.col("n").sum())
        return _Table(
            [rolled.get_column(f"q{i}").to_numpy() for i in range(quasi)],
            rolled.get_column("n").to_numpy().astype(np.int64),
            [],
        )
    qcols = [f"q{i}" for i in range(quasi)]
    rows = coded.select(qcols).unique(maintain_order=True).with_row_index("row")
    classes = coded.join(rows, on=qcols, how="left", maintain_order="left")
    table = classes.group_by("row").agg(pl.col("n").sum(), *(pl.col(c).first() for c in qcols))
    table = table.sort("row")
    sensitive: list[tuple[Codes, Codes, Codes]] = []
    for s in range(sensitive_count):
        value = grouped.get_column(f"c{quasi + s}").rank("dense").cast(pl.Int64)
        long = classes.with_columns(value.alias("v")).group_by("row", "v").agg(pl.col("n").sum())
        sensitive.append(
            (
                long.get_column("row").to_numpy().astype(np.int64),
                long.get_column("v").to_numpy().astype(np.int64),
                long.get_column("n").to_numpy().astype(np.int64),
            )
        )
    return _Table(
        [table.get_column(c).to_numpy().astype(np.int64) for c in qcols],
        table.get_column("n").to_numpy().astype(np.int64),
        sensitive,
    )


def _keys(codes: Sequence[Codes], radices: Sequence[int], rows: int) -> Codes:
    """One integer per combination of codes (mixed radix, re-numbered before it could overflow)."""
    key = np.zeros(rows, dtype=np.int64)
    span = 1
    for codes_d, radix in zip(codes, radices, strict=True):
        if span * radix >= 2**62:
            _, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64)
            span = int(key.max()) + 1 if rows else 1
        key = key * radix + codes_d
        span *= radix
    return key


@dataclass
class _Evaluation:
    result: NodeResult
    monotone_pass: bool  # meets the monotone rules (k, l, and the share bound without suppression)
    table: _Table | None


class _Engine:
    def __init__(self, base: _Table, dimensions: list[_Dimension], rules: Rules) -> None:
        self.base = base
        self.dimensions = dimensions
        self.rules = rules
        self.records = int(base.counts.sum())
        self.budget = math.floor(rules.suppression * self.records)
        self.cache: dict[Node, _Table] = {}
        # ARX's lower bound per column and level: the loss if no record were suppressed.
        self.bounds: list[list[float]] = []
        for d, dim in enumerate(dimensions):
            per_level = []
            for level in range(dim.hierarchy.height):
                share = dim.shares[level][dim.maps[level][base.codes[d]]]
                total = float(np.dot(share, base.counts))
                per_level.append(normalise_loss(total, self.records, len(dim.hierarchy.values)))
            self.bounds.append(per_level)

    def lower_bound(self, node: Node) -> float:
        return aggregate_loss([self.bounds[d][level] for d, level in enumerate(node)])

    def _source(self, node: Node) -> tuple[Node, _Table]:
        best: tuple[Node, _Table] = (tuple(0 for _ in node), self.base)
        for levels, table in self.cache.items():
            if table.rows < best[1].rows and all(a <= b for a, b in zip(levels, node, strict=True)):
                best = (levels, table)
        return best

    def evaluate(self, node: Node) -> _Evaluation:
        origin, source = self._source(node)
        codes = [
            codes_d if low == high else dim.step(low, high)[codes_d]
            for codes_d, dim, low, high in zip(
                source.codes, self.dimensions, origin, node, strict=True
            )
        ]
        radices = [dim.cardinality(level) for dim, level in zip(self.dimensions, node, strict=True)]
        key = _keys(codes, radices, source.rows)
        # Classes: a row per distinct key, numbered by polars' grouping.
        frame = pl.DataFrame({"key": key, "n": source.counts})
        classes_of = frame.select(pl.col("key").rank("dense").cast(pl.Int64) - 1).to_series()
        group = classes_of.to_numpy()
        count = int(group.max()) + 1 if len(group) else 0
        counts = np.bincount(group, weights=source.counts, minlength=count).astype(np.int64)
        first = np.full(count, -1, dtype=np.int64)
        first[group[::-1]] = np.arange(len(group) - 1, -1, -1)  # a source row of each class
        failing = counts < self.rules.k
        monotone_failing = failing.copy()
        sensitive: list[tuple[Codes, Codes, Codes]] = []
        for rows, values, value_counts in source.sensitive:
            target = group[rows]
            long = (
                pl.DataFrame({"c": target, "v": values, "n": value_counts})
                .group_by("c", "v")
                .agg(pl.col("n").sum())
            )
            per_class = long.group_by("c").agg(pl.len().alias("l"), pl.col("n").max().alias("top"))
            c = per_class.get_column("c").to_numpy()
            distinct = np.zeros(count, dtype=np.int64)
            top = np.zeros(count, dtype=np.int64)
            distinct[c] = per_class.get_column("l").to_numpy()
            top[c] = per_class.get_column("top").to_numpy()
            low_l = distinct < self.rules.l_diversity
            high_share = top > self.rules.max_share * counts + 1e-9 * counts
            failing |= low_l | high_share
            monotone_failing |= low_l
            if self.budget == 0:
                monotone_failing |= high_share
            sensitive.append(
                (
                    long.get_column("c").to_numpy().astype(np.int64),
                    long.get_column("v").to_numpy().astype(np.int64),
                    long.get_column("n").to_numpy().astype(np.int64),
                )
            )
        suppressed = int(counts[failing].sum())
        kept = counts[~failing]
        class_codes = [codes_d[first] for codes_d in codes]
        per_column = []
        for d, dim in enumerate(self.dimensions):
            share = dim.shares[node[d]][class_codes[d]]
            # Kept records weigh their value's share; suppressed ones weigh 1 (the whole domain).
            total = float(np.dot(share[~failing], kept)) + suppressed
            per_column.append(normalise_loss(total, self.records, len(dim.hierarchy.values)))
        result = NodeResult(
            levels=node,
            classes=len(kept),
            smallest=int(kept.min()) if len(kept) else 0,
            suppressed=suppressed,
            loss=aggregate_loss(per_column),
            loss_per_column=tuple(per_column),
            meets_rules=suppressed <= self.budget,
        )
        monotone_pass = int(counts[monotone_failing].sum()) <= self.budget
        table = _Table(class_codes, counts, sensitive)
        return _Evaluation(result, monotone_pass, table)

    def remember(self, node: Node, table: _Table) -> None:
        """Keep a table to roll others up from, when it is much smaller than the class table."""
        if table.rows * 2 > self.base.rows or node in self.cache:
            return
        self.cache[node] = table
        while sum(t.rows for t in self.cache.values()) > _CACHE_ROWS * self.base.rows + 1000:
            largest = max(self.cache, key=lambda n: self.cache[n].rows)
            del self.cache[largest]


# --- The search ----------------------------------------------------------------------------------


def search(
    frame: pl.LazyFrame,
    hierarchies: Mapping[str, Hierarchy | HierarchyBuilder],
    rules: Rules,
    sensitive: Sequence[str] = (),
    *,
    max_nodes: int = DEFAULT_MAX_NODES,
    keep: int = DEFAULT_KEEP,
    check: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SearchResult:
    """The nodes meeting `rules`, least Loss first, over the quasi-identifiers of `hierarchies`
    (a hierarchy, or a builder given the column's distinct values).

    Reads `frame` once (streaming). `check` is called between nodes and may raise `Cancelled`:
    nothing is kept from an interrupted search. `progress(evaluated, max_nodes)` is called after
    each evaluated node. At most `max_nodes` nodes are evaluated.

    Loss is ARX's `Metric.createLossMetric()` (MetricMDNMLoss, gs-factor 0.5, geometric mean):
    per column, each kept record weighs the share of the hierarchy's values that its generalised
    value covers, each suppressed record weighs 1 (as if the value were removed: ARX's suppression
    factor is 1 when the gs-factor is 0.5); the sum is rescaled from records / domain size (no
    generalisation) to records (everything removed), floored at 0 and to 10 decimals; the columns'
    values are combined by the geometric mean of (1 + loss), minus 1."""
    quasi = list(hierarchies)
    if len(quasi) > MAX_QUASI:
        raise HdhWizardError(ERROR_TOO_MANY_QUASI, count=len(quasi), limit=MAX_QUASI)
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise HdhWizardError(ERROR_MAX_NODES, value=str(max_nodes))
    check_columns(frame.collect_schema().names(), quasi, sensitive, "")
    _check_combinations(frame, quasi, sensitive)
    if check is not None:
        check()
    grouped, distinct = _class_table(frame, quasi, sensitive)
    dimensions = []
    for name, values in zip(quasi, distinct, strict=True):
        given = hierarchies[name]
        present = values.to_list()
        hierarchy = given if isinstance(given, Hierarchy) else given(present)
        hierarchy.check_covers(present, name)
        dimensions.append(_Dimension.of(hierarchy))
    base = _base_table(grouped, dimensions, len(sensitive))
    del grouped
    engine = _Engine(base, dimensions, rules)
    return _Explorer(engine, max_nodes, keep, check, progress).run(quasi)


class _Explorer:
    """Best-first over ARX's lower bound, with monotone pruning (see the module's docstring)."""

    def __init__(
        self,
        engine: _Engine,
        max_nodes: int,
        keep: int,
        check: Callable[[], None] | None,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.engine = engine
        self.heights = tuple(dim.hierarchy.height for dim in engine.dimensions)
        self.top: Node = tuple(h - 1 for h in self.heights)
        self.max_nodes = max_nodes
        self.keep = keep
        self.check = check
        self.progress = progress
        self.results: dict[Node, NodeResult] = {}
        self.passing: list[Node] = []  # minimal nodes known to meet the monotone rules
        self.failing: list[Node] = []  # maximal nodes known to fail them
        self.evaluated = 0

    def _evaluate(self, node: Node) -> _Evaluation:
        if self.check is not None:
            self.check()
        evaluation = self.engine.evaluate(node)
        self.evaluated += 1
        self.results[node] = evaluation.result
        if evaluation.monotone_pass:
            self.passing = [p for p in self.passing if not _below(node, p)] + [node]
        else:
            self.failing = [f for f in self.failing if not _below(f, node)] + [node]
        if evaluation.table is not None:
            self.engine.remember(node, evaluation.table)
        if self.progress is not None:
            self.progress(self.evaluated, self.max_nodes)
        return evaluation

    def _fails(self, node: Node) -> bool:
        return any(_below(node, f) for f in self.failing)

    def _passes(self, node: Node) -> bool:
        return any(_below(p, node) for p in self.passing)

    def _chain(self, node: Node) -> list[Node]:
        """Generalisations from `node` to the top, one level at a time, cheapest bound first."""
        chain = [node]
        current = list(node)
        while tuple(current) != self.top:
            options = [d for d in range(len(current)) if current[d] < self.heights[d] - 1]
            d = min(
                options,
                key=lambda d: (
                    self.engine.bounds[d][current[d] + 1] - self.engine.bounds[d][current[d]]
                ),
            )
            current[d] += 1
            chain.append(tuple(current))
        return chain

    def _place(self, node: Node) -> None:
        """Binary search on a chain above `node` for the lowest node meeting the monotone rules:
        each evaluation settles a region; stops once `node` itself is settled."""
        chain = self._chain(node)
        low, high = 0, len(chain) - 1  # the lowest passing node of the chain is in low..high
        while low < high and self.evaluated < self.max_nodes:
            if self._fails(node) or self._passes(node):
                return
            middle = (low + high) // 2
            target = chain[middle]
            if self._fails(target):
                passed = False
            elif self._passes(target):
                passed = True
            else:
                passed = self._evaluate(target).monotone_pass
            if passed:
                high = middle
            else:
                low = middle + 1

    def run(self, quasi: Sequence[str]) -> SearchResult:
        engine = self.engine
        bottom: Node = tuple(0 for _ in self.heights)
        heap: list[tuple[float, int, Node]] = [(engine.lower_bound(bottom), 0, bottom)]
        queued = {bottom}
        best: NodeResult | None = None
        losses: list[float] = []  # of every solution found, in order: the best `keep` are listed
        settled = 0
        proven = False
        bounded = False
        while heap:
            bound, _, node = heapq.heappop(heap)
            if best is not None and bound >= best.loss:
                # Nodes come out in order of their bound: none left can beat the best one. Go on
                # only while one could still enter the `keep` best listed.
                proven = True
                if len(losses) >= self.keep and bound >= losses[self.keep - 1]:
                    break
            if self.evaluated >= self.max_nodes and node not in self.results:
                bounded = True
                break
            settled += 1
            for d in range(len(node)):
                if node[d] < self.heights[d] - 1:
                    after = (*node[:d], node[d] + 1, *node[d + 1 :])
                    if after not in queued:
                        queued.add(after)
                        heapq.heappush(heap, (engine.lower_bound(after), sum(after), after))
            if node not in self.results and not self._fails(node) and not self._passes(node):
                self._place(node)
            if self._fails(node) and node not in self.results:
                continue
            if node not in self.results:
                if self.evaluated >= self.max_nodes:
                    bounded = True
                    break
                self._evaluate(node)
            result = self.results[node]
            if result.meets_rules:
                bisect.insort(losses, result.loss)
                if best is None or result.loss < best.loss:
                    best = result
        # Proven, or every node visited (then no solution at all is a proven answer too).
        optimal = proven or not bounded
        solutions = sorted(
            (r for r in self.results.values() if r.meets_rules), key=lambda r: (r.loss, r.levels)
        )
        closest = None
        if not solutions:
            if not self.results:
                self._evaluate(self.top)
            closest = min(self.results.values(), key=lambda r: (r.suppressed, r.loss, r.levels))
        lattice = math.prod(self.heights)
        return SearchResult(
            records=engine.records,
            quasi_identifiers=tuple(quasi),
            heights=self.heights,
            rules=engine.rules,
            solutions=tuple(solutions[: self.keep]),
            closest=closest,
            lattice_size=lattice,
            evaluated=self.evaluated,
            settled=settled,
            optimal=optimal,
            bounded=bounded,
        )


def _below(a: Node, b: Node) -> bool:
    """Whether `a` is `b` or more specific (every level lower or equal)."""
    return all(x <= y for x, y in zip(a, b, strict=True))
