"""Tables that are not delimited text: spreadsheets (every sheet) and Parquet. They are always
"fixable": the guide wants CSV, and the wizard writes one CSV per sheet (`convert`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from hdh_wizard.inspect.kinds import FileKind
from hdh_wizard.inspect.report import ColumnProfile, ColumnType, Problem, Severity, TableReport

EXAMPLES = 3
# Distinct values are counted exactly up to this many per column (a hash of each value is
# kept: ~50 bytes each), estimated above it (HyperLogLog, ±2 %), and never above the values.
DISTINCT_EXACT_MAX = 1_000_000
DISTINCT_ESTIMATE_MARGIN = 1.05  # an estimate this close to the bound is counted exactly
DISTINCT_BUDGET = 8_000_000  # distinct values held at once by one pass (~400 MB)


class TableReadError(Exception):
    """A workbook or Parquet file polars cannot open (truncated, encrypted, damaged)."""


def read_sheets(path: Path) -> dict[str, pl.DataFrame]:
    """Every sheet of a workbook, in order, read whole (workbooks are small by nature)."""
    try:
        sheets = pl.read_excel(path, sheet_id=0, engine="calamine", raise_if_empty=False)
    except Exception as error:  # fastexcel raises its own types for every kind of damage
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise TableReadError(detail) from error
    return dict(sheets)


def check_spreadsheet(path: Path, kind: FileKind) -> tuple[TableReport | None, list[Problem]]:
    try:
        sheets = read_sheets(path)
    except TableReadError as error:
        return None, [Problem("spreadsheet_unreadable", Severity.BLOCKING, {"detail": str(error)})]
    names = tuple(sheets)
    filled = {name: frame for name, frame in sheets.items() if frame.height}
    problems = [
        Problem("not_csv", Severity.FIXABLE, {"format": kind.value.upper(), "sheets": len(filled)})
    ]
    if not filled:
        problems.append(Problem("no_rows", Severity.BLOCKING))
    columns: list[ColumnProfile] = []
    for frame in filled.values():
        columns.extend(profile_frame(frame))
    rows = sum(frame.height for frame in filled.values())
    return TableReport(rows=rows, columns=tuple(columns), sheets=names), problems


def check_parquet(path: Path) -> tuple[TableReport | None, list[Problem]]:
    try:
        frame = pl.scan_parquet(path)
        schema = frame.collect_schema()
        nested = [n for n, t in schema.items() if t.is_nested()]
        if nested:
            return None, [
                Problem("nested_columns", Severity.BLOCKING, {"columns": ", ".join(nested)})
            ]
        exprs = [pl.len().alias("__rows")]
        for i in range(len(schema)):
            col = pl.nth(i)
            exprs += [
                col.null_count().alias(f"{i}:nulls"),
                col.min().alias(f"{i}:min"),
                col.max().alias(f"{i}:max"),
                col.approx_n_unique().alias(f"{i}:distinct"),
            ]
        result = frame.select(exprs).collect(engine="streaming").row(0, named=True)
        rows = int(result["__rows"])
        estimates = {
            f"{i}": approximate_distinct(result[f"{i}:distinct"], int(result[f"{i}:nulls"]), rows)
            for i in range(len(schema))
        }
        # Columnar: a second pass reads only the columns counted exactly.
        exact = count_distinct(
            frame,
            {key: n for key, n in estimates.items() if needs_exact(n)},
            lambda key: pl.nth(int(key)),
        )
        head = frame.head(50).collect()
    except (pl.exceptions.PolarsError, OSError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        return None, [Problem("parquet_unreadable", Severity.BLOCKING, {"detail": detail})]
    columns = tuple(
        ColumnProfile(
            name=name,
            type=type_of(dtype),
            nulls=int(result[f"{i}:nulls"]),
            distinct=exact.get(f"{i}", estimates[f"{i}"]),
            distinct_exact=f"{i}" in exact,
            minimum=_text(result[f"{i}:min"]),
            maximum=_text(result[f"{i}:max"]),
            examples=_examples(head[name]),
        )
        for i, (name, dtype) in enumerate(schema.items())
    )
    problems = [Problem("not_csv", Severity.FIXABLE, {"format": "PARQUET", "sheets": 1})]
    if not rows:
        problems.append(Problem("no_rows", Severity.BLOCKING))
    return TableReport(rows=rows, columns=columns), problems


def exact_distinct(column: pl.Expr, dtype: pl.DataType | None = None) -> pl.Expr:
    """Distinct non-null values, exactly. Each value gets the id of a category of a fresh
    mapping, which polars numbers 0, 1, 2… as values first come: the highest id + 1 is the count.
    The mapping holds each distinct value once whatever the rows, and such counts stream side by
    side in one query; two `n_unique` in one streaming query make polars hold their whole
    columns in memory instead (the peak then grows with the file). A `dtype` without a text form
    that tells its values apart is counted by `n_unique`."""
    text = _distinct_text(column, dtype)
    if text is None:
        return column.n_unique() - (column.null_count() > 0).cast(pl.Int64)
    ids = text.cast(pl.Categorical(pl.Categories.random())).to_physical()
    return (ids.max().cast(pl.Int64) + 1).fill_null(0)


def _distinct_text(column: pl.Expr, dtype: pl.DataType | None) -> pl.Expr | None:
    """The values as text, two values alike iff their texts are (as `n_unique` compares them:
    0.0 and -0.0 alike, every NaN alike)."""
    if dtype is None or dtype == pl.String:
        return column
    if dtype.is_float():
        return pl.when(column == 0).then(pl.lit(0.0, dtype)).otherwise(column).cast(pl.String)
    if dtype.is_integer() or dtype.is_temporal() or dtype.is_decimal() or dtype == pl.Boolean:
        return column.cast(pl.String)  # one text per value (a decimal's scale is the column's)
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return column.cast(pl.String)
    return None


def approximate_distinct(estimate: int | None, nulls: int, rows: int) -> int:
    """polars' estimate (which counts null as a value) as distinct non-null values: never more
    than the non-null values there are."""
    value = int(estimate or 0) - (1 if nulls else 0)
    return max(0, min(value, rows - nulls))


def needs_exact(estimate: int) -> bool:
    return estimate <= DISTINCT_EXACT_MAX * DISTINCT_ESTIMATE_MARGIN


def budget_batches(sizes: dict[str, int]) -> list[list[str]]:
    """Columns grouped so that each group's distinct values (estimated) fit the budget."""
    batches: list[list[str]] = [[]]
    held = 0
    for name, size in sorted(sizes.items(), key=lambda item: item[1]):
        if batches[-1] and held + size > DISTINCT_BUDGET:
            batches.append([])
            held = 0
        batches[-1].append(name)
        held += size
    return [batch for batch in batches if batch]


def count_distinct(
    frame: pl.LazyFrame, sizes: dict[str, int], column: Callable[[str], pl.Expr] = pl.col
) -> dict[str, int]:
    """Exact distinct counts of the columns named in `sizes` (their estimated distinct values),
    one streaming pass per budget's worth of columns (a group-by when it holds one column)."""
    counts: dict[str, int] = {}
    for batch in budget_batches(sizes):
        if len(batch) == 1:  # a group-by alone: flat memory, cheaper than a category mapping
            (name,) = batch
            values = frame.select(column(name).alias("value")).drop_nulls()
            groups = values.group_by("value").agg().select(pl.len())
            counts[name] = int(groups.collect(engine="streaming").item())
            continue
        types = frame.select(column(name) for name in batch).collect_schema().dtypes()
        exprs = [
            exact_distinct(column(name), dtype).alias(f"{i}")
            for i, (name, dtype) in enumerate(zip(batch, types, strict=True))
        ]
        row = frame.select(exprs).collect(engine="streaming").row(0)
        counts.update({name: int(value or 0) for name, value in zip(batch, row, strict=True)})
    return counts


def profile_frame(frame: pl.DataFrame) -> list[ColumnProfile]:
    """Exact profile of a table already in memory (a sheet)."""
    profiles = []
    for name in frame.columns:
        series = frame[name]
        values = series.drop_nulls()
        profiles.append(
            ColumnProfile(
                name=name,
                type=type_of(series.dtype) if values.len() else ColumnType.EMPTY,
                nulls=series.null_count(),
                distinct=values.n_unique(),
                distinct_exact=True,
                minimum=_text(values.min()) if values.len() else None,
                maximum=_text(values.max()) if values.len() else None,
                examples=_examples(values),
            )
        )
    return profiles


def type_of(dtype: pl.DataType) -> ColumnType:
    if dtype.is_integer():
        return ColumnType.INTEGER
    if dtype.is_float() or dtype.is_decimal():
        return ColumnType.DECIMAL
    if dtype == pl.Boolean:
        return ColumnType.BOOLEAN
    if dtype == pl.Date:
        return ColumnType.DATE_ISO
    if dtype == pl.Datetime:
        return ColumnType.DATETIME
    if dtype == pl.Null:
        return ColumnType.EMPTY
    return ColumnType.TEXT


def _examples(series: pl.Series) -> tuple[str, ...]:
    values = series.drop_nulls().unique(maintain_order=True).head(EXAMPLES)
    return tuple(str(v) for v in values.to_list())


def _text(value: object) -> str | None:
    try:
        return None if value is None else str(value)
    except Exception:  # an exotic value polars returns without a str: not worth failing on
        return None
