"""Every column's profile in one streaming polars pass over the whole file (never loaded whole).

Types are inferred by polars on the first rows, then confirmed on all of them: when a later value
does not fit (a "NA" in a column of integers), polars names the column and that column is read
again as text, its values classified by casting (how many fit the type is then reported).
French conventions polars leaves as text (12,5 and 24/09/2018) are recognised from the sample and
verified on the whole column.

The pass computes each aggregation once: a column's values are converted to its type once (a
column of their own), the distinct values of a column are counted exactly in the pass when its
sample says they will be few (`_exact_in_first_pass`; by category ids, which stream side by side
with flat memory), a column whose sample holds few values is checked against them (its bounds
and distinct count are then the sample's). A pass of its own comes after only for what the
sample could not foresee.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from hdh_wizard.inspect.csv_dialect import Sniffed
from hdh_wizard.inspect.report import ColumnProfile, ColumnType
from hdh_wizard.inspect.tables import (
    DISTINCT_BUDGET,
    DISTINCT_EXACT_MAX,
    approximate_distinct,
    count_distinct,
    exact_distinct,
    needs_exact,
    type_of,
)
from hdh_wizard.phases import phase

INFER_ROWS = 10_000
EXACT_DISTINCT_SAMPLE_LIMIT = 1_000  # sample distinct values up to which the count is made exact
SATURATED = 0.2  # a sample this repetitive (distinct / values) holds most of its column's values
EXACT_DUPLICATES_MAX_BYTES = 256 * 1024 * 1024  # above, duplicate rows are not counted
EXAMPLES = 3
MOSTLY = 0.95  # share of a sample's values that must fit a type for the column to have it
EXPRESSIONS_PER_PASS = 2_000
RECAPTURED_MIN = 20  # values of the sample's second half seen in its first, to guess from them
LIKELY_WITHIN = 0.8  # a guess this far below the exact-count bound is counted in the first pass
_PARSE_ERROR = re.compile(r"could not parse `.*?` as dtype `.*?` at column '(?P<column>.*?)'")
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$|^[-+]?\d+$")
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
DAY_FIRST = "%d/%m/%Y"
_ABOVE_12 = "(?:1[3-9]|[2-9][0-9])"  # a day or a month part that is not a month
ISO_DATE = "%Y-%m-%d"


class ProfileError(Exception):
    """The file cannot be read with the sniffed dialect; `reason` says why, for the diagnosis."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason  # "encoding", "too_many_fields", "unreadable"
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class Profile:
    rows: int
    columns: tuple[ColumnProfile, ...]
    quoted_delimiters: int  # delimiters inside text values (to check the field count of rows)
    duplicate_rows: int
    duplicate_rows_counted: bool
    blank_rows: int = 0  # blank lines (or rows of empty fields only), not counted in `rows`


def scan(
    path: Path,
    sniffed: Sniffed,
    overrides: dict[str, pl.DataType] | None = None,
    infer: bool = True,
    *,
    truncate_ragged: bool = False,
) -> pl.LazyFrame:
    dialect = sniffed.dialect
    return pl.scan_csv(
        path,
        separator=dialect.delimiter,
        quote_char=dialect.quote,
        has_header=dialect.header,
        encoding="utf8" if dialect.encoding == "utf-8" else "utf8-lossy",
        infer_schema=infer,
        infer_schema_length=INFER_ROWS,
        schema_overrides=overrides,
        raise_if_empty=False,
        eol_char="\r" if dialect.line_ending == "\r" else "\n",
        truncate_ragged_lines=truncate_ragged,
    )


def profile_table(path: Path, sniffed: Sniffed, *, truncate_ragged: bool = False) -> Profile:
    """Profile every column. Raises ProfileError when polars cannot read the file.

    With `truncate_ragged`, the fields a row has beyond the header's are left out (the file is
    then known to be ragged: this gives its row count and a profile all the same)."""
    overrides: dict[str, pl.DataType] = {}
    for _ in range(1000):
        try:
            return _profile_once(path, sniffed, overrides, truncate_ragged)
        except pl.exceptions.ComputeError as error:
            column = _unparsable_column(str(error))
            if column is None or column in overrides:
                raise _profile_error(error) from error
            overrides[column] = pl.String()
        except (pl.exceptions.PolarsError, OSError) as error:
            raise _profile_error(error) from error
    raise ProfileError("unreadable", "too many retries")


def _profile_error(error: Exception) -> ProfileError:
    text = str(error)
    if "utf-8" in text or "utf8" in text:
        return ProfileError("encoding", text.splitlines()[0])
    if "more fields than defined" in text:
        return ProfileError("too_many_fields", text.splitlines()[0])
    return ProfileError("unreadable", text.splitlines()[0] if text else type(error).__name__)


def _unparsable_column(message: str) -> str | None:
    match = _PARSE_ERROR.search(message)
    return match.group("column") if match else None


def _profile_once(
    path: Path,
    sniffed: Sniffed,
    overrides: dict[str, pl.DataType],
    truncate_ragged: bool = False,
) -> Profile:
    with phase("check.profile.sample"):
        frame = scan(path, sniffed, overrides, truncate_ragged=truncate_ragged)
        schema = frame.collect_schema()
        names = schema.names()
        sample = scan(
            path,
            sniffed,
            {n: pl.String() for n in names},
            infer=False,
            truncate_ragged=truncate_ragged,
        ).head(INFER_ROWS)
        sample_frame = sample.collect()
        typed_sample = frame.head(INFER_ROWS).collect()
        delimiter = sniffed.dialect.delimiter
        plans = [
            _plan(
                name,
                schema[name],
                sample_frame[name],
                typed_sample[name],
                name in overrides,
                delimiter,
            )
            for name in names
        ]
        plans = _exact_in_first_pass(plans, _estimated_rows(path, sample_frame))
    typed_names = _typed_names(names, plans)
    profiled = frame.with_columns(
        plans[index].typed().alias(typed) for index, typed in typed_names.items()
    )
    own = pl.all().exclude(list(typed_names.values()))  # the file's columns, not ours
    exprs: list[pl.Expr] = [pl.len().alias("__rows")]
    if names:
        # A blank line reads as a row of nulls: counted, so that it is not taken for data.
        exprs.append(pl.all_horizontal(own.is_null()).sum().alias("__blank"))
    for index, plan in enumerate(plans):
        column_exprs = plan.exprs(typed_names.get(index)).items()
        exprs.extend(e.alias(f"{index}:{key}") for key, e in column_exprs)
    # Counting duplicate rows keeps a hash per row: done up to a size where memory stays small
    # (polars' row count would map the whole file in memory, so the size decides).
    exact_duplicates = path.stat().st_size <= EXACT_DUPLICATES_MAX_BYTES
    if names and exact_duplicates:
        exprs.append(pl.struct(own).hash().n_unique().alias("__distinct_rows"))
    result: dict[str, Any] = {}
    # One query per batch of expressions: polars plans a query of tens of thousands of
    # expressions (a 10 000-column export) very slowly, while one pass suffices for usual tables.
    with phase("check.profile.pass"):
        for start in range(0, len(exprs), EXPRESSIONS_PER_PASS):
            batch = exprs[start : start + EXPRESSIONS_PER_PASS]
            result.update(profiled.select(batch).collect(engine="streaming").row(0, named=True))
    blank = int(result.get("__blank") or 0)
    rows = int(result["__rows"]) - blank
    by_column: dict[int, dict[str, Any]] = {}
    for key, value in result.items():
        if not key.startswith("__"):
            position, name = key.split(":", 1)
            by_column.setdefault(int(position), {})[name] = value
    unseen = [
        index
        for index, plan in enumerate(plans)
        if plan.checked_against_sample and not by_column[index].get("within_sample")
    ]
    if unseen:  # rare: columns with few values in their sample, and others further on
        with phase("check.profile.unseen"):
            _later_pass(frame, plans, unseen, by_column)
    columns = []
    quoted = 0
    for index, plan in enumerate(plans):
        values = by_column[index]
        quoted += int(values.get("delims") or 0)
        columns.append(plan.profile(values, rows, blank_rows=blank))
    with phase("check.profile.exact_distinct"):
        columns = _exact_distinct_pass(frame, columns)
    # Blank lines are all alike: they are reported as blank, not as duplicates.
    distinct = int(result.get("__distinct_rows") or rows + blank) - (1 if blank else 0)
    duplicates = max(0, rows - distinct)
    return Profile(rows, tuple(columns), quoted, duplicates, exact_duplicates, blank)


def _typed_names(names: list[str], plans: list[_ColumnPlan]) -> dict[int, str]:
    """The name of the column of converted values of each column that has one (by position),
    unlike any of the file's own names."""
    prefix = "__typed"
    while any(name.startswith(prefix) for name in names):
        prefix += "_"
    return {index: f"{prefix}{index}" for index, plan in enumerate(plans) if plan.cast}


def _estimated_rows(path: Path, sample: pl.DataFrame) -> int:
    """The file's rows, from its size and the sample's bytes per row (the sample holds every
    row of a small file)."""
    if sample.height < INFER_ROWS:
        return sample.height
    lengths = sample.select(pl.all().str.len_bytes().fill_null(0).sum()).row(0)
    row_bytes = (sum(int(n or 0) for n in lengths) + sample.width * sample.height) / sample.height
    return int(path.stat().st_size / max(1.0, row_bytes))


def _exact_in_first_pass(plans: list[_ColumnPlan], rows: int) -> list[_ColumnPlan]:
    """The columns whose distinct values are counted exactly in the profile's own pass: those
    expected to hold at most `DISTINCT_EXACT_MAX` (a repetitive sample has seen most of its
    column's values; a varied one extrapolates to the whole file), within the memory budget.
    The others get an estimate first, and an exact count after if the estimate is low enough."""
    expected: dict[int, int] = {}
    for index, plan in enumerate(plans):
        if plan.sample_distinct <= EXACT_DISTINCT_SAMPLE_LIMIT:
            continue  # the sample's values are checked cheaply (`within_sample`)
        seen = max(1, plan.sample_values_count)
        share = plan.sample_distinct / seen
        guess = plan.sample_distinct if share < SATURATED else int(rows * share)
        if guess <= DISTINCT_EXACT_MAX:
            expected[index] = max(guess, plan.sample_distinct)
    chosen, held = _within_budget(expected, 0)
    # The others whose estimate will likely be within the bound are counted in the same pass
    # too (the count used only if the estimate says so), while the budget holds.
    likely: dict[int, int] = {}
    for index, plan in enumerate(plans):
        recaptured = plan.recapture_guess
        if index in chosen or plan.sample_distinct <= EXACT_DISTINCT_SAMPLE_LIMIT:
            continue
        if recaptured is not None and recaptured <= DISTINCT_EXACT_MAX * LIKELY_WITHIN:
            likely[index] = max(recaptured, plan.sample_distinct)
    speculative, _held = _within_budget(likely, held)
    return [
        replace(p, count_exact=i in chosen, count_exact_if_needed=i in speculative)
        for i, p in enumerate(plans)
    ]


def _within_budget(sizes: dict[int, int], held: int) -> tuple[set[int], int]:
    """The columns, smallest first, whose distinct values fit the budget beside `held`; and the
    values then held."""
    chosen = set()
    for index, size in sorted(sizes.items(), key=lambda item: item[1]):
        if held + size > DISTINCT_BUDGET:
            break
        held += size
        chosen.add(index)
    return chosen, held


def _later_pass(
    frame: pl.LazyFrame,
    plans: list[_ColumnPlan],
    indexes: list[int],
    by_column: dict[int, dict[str, Any]],
) -> None:
    """What the columns at `indexes` need beyond the first pass, added to their values."""
    exprs = [
        e.alias(f"{index}:{key}")
        for index in indexes
        for key, e in plans[index].later_exprs().items()
    ]
    row = frame.select(exprs).collect(engine="streaming").row(0, named=True)
    for key, value in row.items():
        position, name = key.split(":", 1)
        by_column[int(position)][name] = value


def _exact_distinct_pass(frame: pl.LazyFrame, columns: list[ColumnProfile]) -> list[ColumnProfile]:
    """Exact counts, in one more pass, of the columns whose estimate is within the bound."""
    wanted = {
        c.name: c.distinct for c in columns if not c.distinct_exact and needs_exact(c.distinct)
    }
    if not wanted:
        return columns
    counts = count_distinct(frame, wanted)
    return [
        replace(c, distinct=counts[c.name], distinct_exact=True) if c.name in counts else c
        for c in columns
    ]


@dataclass(frozen=True)
class _ColumnPlan:
    """What to compute on one column, given its polars type and what its sample looks like."""

    name: str
    type: ColumnType
    dtype: pl.DataType
    sample_distinct: int
    sample_values: pl.Series  # the sample's distinct values, typed as the column is read
    examples: tuple[str, ...]
    delimiter_probe: str | None  # the delimiter, for text columns (counted inside values)
    sample_values_count: int = 0  # non-null values in the sample
    count_exact: bool = False  # distinct values counted exactly in the profile's pass
    recapture_guess: int | None = None  # the column's distinct values, from the sample's halves
    # Also counted exactly in the profile's pass, the count kept only where the estimate is
    # within the bound (where a pass of its own would otherwise count it): one pass, not two.
    count_exact_if_needed: bool = False

    def typed(self) -> pl.Expr:
        col = pl.col(self.name)
        if self.dtype != pl.String:
            return col
        if self.type is ColumnType.INTEGER:
            return col.cast(pl.Int64, strict=False)
        if self.type is ColumnType.DECIMAL:
            return col.cast(pl.Float64, strict=False)
        if self.type is ColumnType.DECIMAL_COMMA:
            return col.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
        if self.type in (ColumnType.DATE_DAY_FIRST, ColumnType.DATE_AMBIGUOUS):
            return col.str.to_date(DAY_FIRST, strict=False)
        if self.type is ColumnType.DATE_ISO:
            return col.str.to_date(ISO_DATE, strict=False)
        if self.type is ColumnType.DATETIME:
            return col.str.to_datetime(strict=False)
        return col

    @property
    def cast(self) -> bool:
        """Whether the column is read as text and its values converted to its type (once per
        batch, in a column of its own, whatever the aggregations that use it)."""
        return self.dtype == pl.String and self.type is not ColumnType.TEXT

    @property
    def checked_against_sample(self) -> bool:
        """Whether the column is checked to hold only values its sample has seen (then its
        distinct count is the sample's, and its estimate is not needed)."""
        return self.sample_distinct <= EXACT_DISTINCT_SAMPLE_LIMIT

    def later_exprs(self) -> dict[str, pl.Expr]:
        """What a column that holds values its sample has not seen needs from one more pass:
        the estimate of its distinct values, and its bounds when they were to be the sample's."""
        col = pl.col(self.name)
        exprs = {"distinct": col.approx_n_unique()}
        if self.bounds_from_sample:
            exprs["min"] = col.min()
            exprs["max"] = col.max()
        return exprs

    @property
    def bounds_from_sample(self) -> bool:
        """Whether the bounds are the sample's when every value is one the sample has seen
        (values read as they are: no conversion whose result could depend on the column, no
        float whose 0.0 and -0.0 the sample's distinct values would merge)."""
        return self.checked_against_sample and not self.cast and not self.dtype.is_float()

    def exprs(self, typed_name: str | None = None) -> dict[str, pl.Expr]:
        """The aggregations of the profile's pass; `typed_name` is the column holding the
        converted values when `cast` (else they are converted here)."""
        col = pl.col(self.name)
        typed = pl.col(typed_name) if typed_name is not None else self.typed()
        exprs = {"nulls": col.null_count()}
        if not self.bounds_from_sample:  # else the sample's, or a later pass's (`later_exprs`)
            exprs["min"] = typed.min()
            exprs["max"] = typed.max()
        if self.count_exact:
            exprs["exact"] = exact_distinct(col, self.dtype)  # the estimate would not be used
        elif not self.checked_against_sample:  # else estimated later, if ever needed
            exprs["distinct"] = col.approx_n_unique()
        if self.count_exact_if_needed:
            exprs["exact_if_needed"] = exact_distinct(col, self.dtype)
        if self.checked_against_sample:
            # Exact without a hash table over the whole column (which polars keeps in memory):
            # if every value is one the sample has seen, the sample's count is the exact one.
            known = col.is_in(self.sample_values.implode()) | col.is_null()
            exprs["within_sample"] = known.all()  # elementwise, then one flag: streams
        if self.cast:
            exprs["typed_nulls"] = typed.null_count()
        if self.type in (ColumnType.DATE_DAY_FIRST, ColumnType.DATE_AMBIGUOUS):
            # Which part goes above 12 on the whole column tells day-first from month-first.
            # A match, not an extraction: a part of one or two digits (`\d`: any script's)
            # before a slash reads as a number above 12 only when it is 13 to 99 in ASCII.
            exprs["first_above_12"] = col.str.contains(rf"^{_ABOVE_12}/").any()
            exprs["second_above_12"] = col.str.contains(rf"^\d{{1,2}}/{_ABOVE_12}/").any()
        if self.delimiter_probe is not None:
            exprs["delims"] = col.str.count_matches(self.delimiter_probe, literal=True).sum()
        return exprs

    def profile(self, values: dict[str, Any], rows: int, blank_rows: int = 0) -> ColumnProfile:
        nulls = int(values["nulls"] or 0) - blank_rows
        kind = self.type
        unparsed = 0
        if "typed_nulls" in values:
            unparsed = int(values["typed_nulls"] or 0) - nulls - blank_rows
        if kind in (ColumnType.DATE_DAY_FIRST, ColumnType.DATE_AMBIGUOUS):
            first, second = values.get("first_above_12"), values.get("second_above_12")
            if second:
                kind, unparsed = ColumnType.TEXT, 0  # month first (US): left as it is
            else:
                kind = ColumnType.DATE_DAY_FIRST if first else ColumnType.DATE_AMBIGUOUS
        if nulls == rows:
            kind = ColumnType.EMPTY
        within_sample = bool(values.get("within_sample"))
        if self.bounds_from_sample and within_sample:
            values = {**values, "min": self.sample_values.min(), "max": self.sample_values.max()}
        if within_sample:
            distinct = self.sample_distinct
        elif values.get("exact") is not None:
            distinct = int(values["exact"])
        else:  # polars' estimate, over every null (a blank row's too)
            every_null = nulls + blank_rows
            distinct = approximate_distinct(values.get("distinct"), every_null, rows + blank_rows)
            distinct = min(distinct, rows - nulls)
        exact = within_sample or values.get("exact") is not None
        if not exact and values.get("exact_if_needed") is not None and needs_exact(distinct):
            distinct, exact = int(values["exact_if_needed"]), True
        return ColumnProfile(
            name=self.name,
            type=kind,
            nulls=nulls,
            distinct=distinct,
            distinct_exact=exact,
            minimum=_text(values["min"]),
            maximum=_text(values["max"]),
            examples=self.examples,
            unparsed=max(0, unparsed),
        )


def _plan(
    name: str,
    dtype: pl.DataType,
    sample: pl.Series,
    typed_sample: pl.Series,
    was_overridden: bool,
    delimiter: str,
) -> _ColumnPlan:
    values = sample.drop_nulls()
    examples = tuple(str(v) for v in values.unique(maintain_order=True).head(EXAMPLES).to_list())
    kind = _type_of(dtype, values, was_overridden)
    probe = delimiter if dtype == pl.String else None
    distinct = typed_sample.drop_nulls().unique()
    return _ColumnPlan(
        name,
        kind,
        dtype,
        distinct.len(),
        distinct,
        examples,
        probe,
        typed_sample.count(),
        recapture_guess=_recapture_guess(typed_sample),
    )


def _recapture_guess(sample: pl.Series) -> int | None:
    """The column's distinct values as the sample's two halves tell them (capture-recapture:
    the share of the second half's values already seen in the first is the share of the
    column's values the first half holds). None when too few are seen again to tell, as in a
    sorted column, whose later values are new ones."""
    first = sample.head(sample.len() // 2).drop_nulls().unique()
    second = sample.tail(sample.len() - sample.len() // 2).drop_nulls()
    if first.is_empty() or second.is_empty():
        return None
    recaptured = int(second.is_in(first.implode()).sum())
    if recaptured < RECAPTURED_MIN:
        return None
    return int(first.len() * second.len() / recaptured)


def _type_of(dtype: pl.DataType, values: pl.Series, was_overridden: bool) -> ColumnType:
    if dtype != pl.String:
        return type_of(dtype)  # polars parsed it: its type says it
    texts = [str(v) for v in values.head(INFER_ROWS).to_list()]
    if not texts:
        return ColumnType.EMPTY
    if was_overridden:
        # polars typed it from the sample; a later value broke it: keep the sample's type.
        if all(re.fullmatch(r"[-+]?\d+", t) for t in texts):
            return ColumnType.INTEGER
        if all(re.fullmatch(r"[-+]?\d*\.?\d+([eE][-+]?\d+)?", t) for t in texts):
            return ColumnType.DECIMAL
    # Mostly, not all: a date column with a few "inconnu" is still a date column (those values
    # are counted as not fitting, and conversions leave them as they are).
    if _mostly(_ISO_DATE, texts):
        return ColumnType.DATE_ISO
    if _mostly(_ISO_DATETIME, texts):
        return ColumnType.DATETIME
    if _mostly(_DECIMAL_COMMA, texts) and any("," in t for t in texts):
        return ColumnType.DECIMAL_COMMA
    if _mostly(_SLASH_DATE, texts):
        return ColumnType.DATE_DAY_FIRST
    return ColumnType.TEXT


def _mostly(pattern: re.Pattern[str], texts: list[str]) -> bool:
    matching = sum(1 for t in texts if pattern.match(t))
    return matching >= MOSTLY * len(texts)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
