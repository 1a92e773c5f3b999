"""A random sample of a big table, the file users of a hosted release look at first.

Reproducible from the seed alone, with any tool, whatever the software's version:

- Rows are numbered from 0 in the order of the file (the header and blank lines not counted).
  Row r gets the number `SplitMix64(seed)` outputs in position r + 1, that is
  `mix(seed + (r + 1) × 0x9E3779B97F4A7C15 mod 2⁶⁴)` with SplitMix64's `mix`. These numbers are
  all different (`mix` is a bijection).
- The sample is the n rows with the smallest numbers; stratified, the n_h rows with the smallest
  numbers within each stratum h. The rows are written in the order of the file.
- Size: `size` rows (the whole table when it has fewer), or `fraction` of the rows rounded to
  the nearest whole number (halves up), at least one.
- Stratified, the allocation is proportional by largest remainders (Hamilton): each stratum gets
  the whole part of n × N_h / N, and the rows left go one each to the strata with the largest
  fractional parts (ties: the larger stratum, then the first in the values' sorted order). When
  n is at least the number of strata, a stratum left with none gets one, taken from the stratum
  whose allocation is the most above its exact share n × N_h / N (ties: the larger stratum, then
  the first). The empty value (missing, "" or spaces only) is a stratum of its own.

Streaming: the table is read by polars a few times (counts, the strata's codes, the writing)
and never held in memory; the numbers are computed in chunks, and the n-th smallest found by a
histogram of their top bits, so memory grows with the sample, not the table (plus two bytes per
row for the stratum's code).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import numpy as np
import polars as pl
from numpy.typing import NDArray

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.safe_names import safe_name
from hdh_wizard.inspect.split import (
    MAX_PARTS,
    SAMPLE_NAME,
    SEPARATOR,
    STEM_BYTES,
    HashingWriter,
    SourceTable,
    checkpoint,
    commit,
    free_names,
    is_blank,
    open_source,
    rows_written,
    scratch_folder,
    too_many,
    value_counts,
    write_error,
)

MASK64 = (1 << 64) - 1
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
CHUNK_ROWS = 1 << 22
_BITS = 12  # histogram of the numbers' top bits: 4096 bins per stratum
_SHIFT = np.uint64(64 - _BITS)


@dataclass(frozen=True)
class StratumCount:
    value: str | None  # None: the empty value
    rows: int  # in the table
    sampled: int


@dataclass(frozen=True)
class SampleResult:
    source: Path
    path: Path
    seed: int
    size: int | None  # as asked
    fraction: float | None  # as asked
    source_rows: int
    rows: int  # drawn
    stratify_column: str | None
    stratify_column_index: int | None
    strata: tuple[StratumCount, ...]  # in the values' sorted order, the empty value first
    file_size: int
    sha256: str


def sample_name(source: Path) -> str:
    """The sample's file name beside the split's parts: `sejours.csv` gives
    `sejours__echantillon.csv`."""
    stem = safe_name(source.stem, max_bytes=STEM_BYTES, fallback="table")
    return f"{stem}{SEPARATOR}{SAMPLE_NAME}.csv"


def sample_table(
    path: Path,
    out_path: Path,
    *,
    size: int | None = None,
    fraction: float | None = None,
    seed: int,
    stratify_column_index: int | None = None,
    progress: Progress | None = None,
) -> SampleResult:
    """Write a random sample of the table to `out_path` (a conformant CSV, replaced if it
    exists), as the module says. Raises HdhWizardError, Cancelled."""
    _check_request(size, fraction, seed)
    with open_source(path, progress) as source:
        column_index = None
        if stratify_column_index is not None:
            column_index = source.column_index(stratify_column_index)
        if progress is not None:
            progress.current = source.display
            progress.total_bytes = path.stat().st_size
        strata_values, populations, codes = _strata(source, column_index, progress)
        total = sum(populations)
        if total == 0:
            raise HdhWizardError("prepare.error.empty_table", file=source.display)
        wanted = _wanted_rows(total, size, fraction)
        targets = allocate(populations, wanted)
        selected = select_rows(seed, codes, total, targets, progress)
        with scratch_folder(out_path.parent) as scratch:
            writer = _write(source, selected, scratch, progress)
            _check_sample(writer.path, source.display, column_index, strata_values, targets)
            commit([(writer.path, out_path)], out_path.parent)
    column = source.columns[column_index] if column_index is not None else None
    strata = tuple(
        StratumCount(value, population, int(target))
        for value, population, target in zip(strata_values, populations, targets, strict=True)
    )
    return SampleResult(
        path,
        out_path,
        seed,
        size,
        fraction,
        total,
        len(selected),
        column,
        column_index,
        strata if column_index is not None else (),
        writer.size,
        writer.sha256,
    )


def _check_request(size: int | None, fraction: float | None, seed: int) -> None:
    if (size is None) == (fraction is None):
        raise HdhWizardError("prepare.error.size_or_fraction")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise HdhWizardError("prepare.error.sample_size", value=str(size))
    if fraction is not None and (
        isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1
    ):
        raise HdhWizardError("prepare.error.sample_fraction", value=str(fraction))
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MASK64:
        raise HdhWizardError("prepare.error.seed", value=str(seed))


def _wanted_rows(total: int, size: int | None, fraction: float | None) -> int:
    if size is not None:
        return min(size, total)
    assert fraction is not None
    return max(1, min(total, int(fraction * total + 0.5)))


def _strata(
    source: SourceTable, column_index: int | None, progress: Progress | None
) -> tuple[list[str | None], list[int], NDArray[np.uint16] | None]:
    """The strata's values (sorted, the empty value first), their row counts, and each row's
    stratum code (None when not stratified: one stratum)."""
    if column_index is None:
        return [None], [source.count_rows(progress)], None
    counts = value_counts(source, column_index, progress)
    if len(counts) > MAX_PARTS:
        raise too_many(source.columns[column_index], len(counts))
    ordered = sorted(counts, key=lambda c: (c.value is not None, c.value or ""))
    values = [c.value for c in ordered]
    code_of = {value: code for code, value in enumerate(values) if value is not None}
    empty_code = values.index(None) if None in values else 0
    (name,) = free_names(source.columns, 1)
    value = checkpoint(progress)(pl.nth(column_index))
    coded: pl.Expr = pl.when(is_blank(value)).then(pl.lit(empty_code, dtype=pl.UInt16))
    if code_of:
        coded = (
            pl.when(is_blank(value))
            .then(pl.lit(empty_code, dtype=pl.UInt16))
            # every value is in the mapping but the blank ones, which `when` took already
            .otherwise(value.replace_strict(code_of, default=empty_code, return_dtype=pl.UInt16))
        )
    query = source.records().select(coded.alias(name))
    frame = source.run(lambda: query.collect(engine="streaming"), progress)
    codes = frame.to_series().to_numpy().astype(np.uint16, copy=False)
    populations = np.bincount(codes, minlength=len(values))
    if int(populations.sum()) != sum(c.rows for c in ordered):
        raise HdhWizardError(
            "prepare.error.rows_differ",
            file=source.display,
            expected=sum(c.rows for c in ordered),
            written=int(populations.sum()),
        )
    return values, [int(p) for p in populations], codes


def allocate(populations: Sequence[int], wanted: int) -> list[int]:
    """Rows to draw from each stratum: proportional, by largest remainders, at least one per
    non-empty stratum when `wanted` allows (see the module). Exact integer arithmetic."""
    total = sum(populations)
    wanted = min(wanted, total)
    if total == 0 or wanted <= 0:
        return [0] * len(populations)
    shares = [wanted * p // total for p in populations]
    remainders = [wanted * p % total for p in populations]
    by_remainder = sorted(
        range(len(populations)), key=lambda h: (-remainders[h], -populations[h], h)
    )
    for h in by_remainder[: wanted - sum(shares)]:
        shares[h] += 1
    non_empty = [h for h, p in enumerate(populations) if p > 0]
    if wanted >= len(non_empty):
        for h in sorted(non_empty, key=lambda h: (-populations[h], h)):
            if shares[h] == 0:
                # The donor is the stratum most above its exact share (share - n × N_d / N,
                # scaled by N to stay in integers), keeping at least one row itself.
                donors = [d for d in non_empty if shares[d] >= 2]
                donor = min(
                    donors,
                    key=lambda d: (
                        -(shares[d] * total - wanted * populations[d]),
                        -populations[d],
                        d,
                    ),
                )
                shares[donor] -= 1
                shares[h] += 1
    return shares


def row_numbers(seed: int, start: int, stop: int) -> NDArray[np.uint64]:
    """SplitMix64(seed)'s outputs in positions start + 1 … stop: the numbers of rows start …
    stop - 1."""
    with np.errstate(over="ignore"):
        state = np.arange(start + 1, stop + 1, dtype=np.uint64) * _GAMMA + np.uint64(seed)
        z = (state ^ (state >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        mixed: NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return mixed


def select_rows(
    seed: int,
    codes: NDArray[np.uint16] | None,
    total: int,
    targets: Sequence[int],
    progress: Progress | None = None,
) -> NDArray[np.uint64]:
    """The drawn rows (sorted): in each stratum, the `targets[h]` rows with the smallest numbers.

    Three passes over the numbers, in chunks: a histogram of their top bits per stratum tells
    the bin holding each stratum's last drawn number; that bin's numbers give it exactly; then
    every row at or below its stratum's threshold is drawn."""
    strata = len(targets)
    goal = np.asarray(targets, dtype=np.int64)
    histogram = np.zeros(strata << _BITS, dtype=np.int64)
    for start, stop, numbers, code in _chunks(seed, codes, total, progress):
        cell = (code.astype(np.int64) << _BITS) + (numbers >> _SHIFT).astype(np.int64)
        histogram += np.bincount(cell, minlength=strata << _BITS)
        del start, stop
    cumulative = histogram.reshape(strata, 1 << _BITS).cumsum(axis=1)
    active = goal > 0
    last_bin = np.array(
        [np.searchsorted(cumulative[h], goal[h]) if active[h] else -1 for h in range(strata)],
        dtype=np.int64,
    )
    below = np.array(
        [cumulative[h, last_bin[h] - 1] if last_bin[h] > 0 else 0 for h in range(strata)],
        dtype=np.int64,
    )
    found: list[list[NDArray[np.uint64]]] = [[] for _ in range(strata)]
    for _, _, numbers, code in _chunks(seed, codes, total, progress):
        in_bin = (numbers >> _SHIFT).astype(np.int64) == last_bin[code]
        for h in np.unique(code[in_bin]):
            found[h].append(numbers[in_bin & (code == h)])
    threshold = np.zeros(strata, dtype=np.uint64)
    for h in np.flatnonzero(active):
        candidates = np.sort(np.concatenate(found[h]))
        threshold[h] = candidates[goal[h] - below[h] - 1]
    chosen: list[NDArray[np.uint64]] = []
    for start, _, numbers, code in _chunks(seed, codes, total, progress):
        drawn = (numbers <= threshold[code]) & active[code]
        chosen.append(np.flatnonzero(drawn).astype(np.uint64) + np.uint64(start))
    selected = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.uint64)
    if len(selected) != int(goal.sum()):
        raise AssertionError("the draw does not add up")  # a bug, not a user's error
    return selected


def _chunks(
    seed: int, codes: NDArray[np.uint16] | None, total: int, progress: Progress | None
) -> Iterator[tuple[int, int, NDArray[np.uint64], NDArray[np.uint16]]]:
    """(start, stop, numbers, codes) of the rows, a chunk at a time (memory stays small)."""
    for start in range(0, total, CHUNK_ROWS):
        stop = min(total, start + CHUNK_ROWS)
        if progress is not None:
            progress.check()
        code = codes[start:stop] if codes is not None else np.zeros(stop - start, dtype=np.uint16)
        yield start, stop, row_numbers(seed, start, stop), code


def _check_sample(
    path: Path,
    display: str,
    column_index: int | None,
    values: Sequence[str | None],
    targets: Sequence[int],
) -> None:
    """The written sample read back: as many rows as drawn, in each stratum."""
    rows = rows_written(path, display)
    expected = {value: target for value, target in zip(values, targets, strict=True) if target}
    found: dict[str | None, int] = {None: rows}
    if column_index is not None:
        value = pl.nth(column_index)
        query = (
            pl.scan_csv(path, infer_schema=False)
            .select(pl.when(is_blank(value)).then(None).otherwise(value).alias("value"))
            .group_by("value")
            .len(name="rows")
        )
        found = {v: int(n) for v, n in query.collect().iter_rows()}
    if found != ({None: sum(targets)} if column_index is None else expected):
        raise HdhWizardError(
            "prepare.error.rows_differ", file=display, expected=sum(targets), written=rows
        )


def _write(
    source: SourceTable, selected: NDArray[np.uint64], scratch: Path, progress: Progress | None
) -> HashingWriter:
    """The drawn rows, in the file's order, through a hashing writer."""
    (name,) = free_names(source.columns, 1)
    rows = pl.Series(name, selected, dtype=pl.UInt64)
    query = (
        source.records()
        .with_row_index(name)
        .filter(pl.col(name).cast(pl.UInt64).is_in(rows.implode()))
        .drop(name)
    )
    writer = HashingWriter(scratch / "sample.csv", progress)
    try:
        query.sink_csv(
            cast(IO[bytes], writer),
            separator=",",
            quote_char='"',
            line_terminator="\n",
            include_bom=False,
        )
    except (OSError, pl.exceptions.PolarsError) as error:
        writer.close()
        try:
            writer.raise_failure()  # the cancel or the full disk, not polars' wrapping
            raise
        except OSError as failure:
            raise write_error(scratch.parent, failure) from failure
        except pl.exceptions.PolarsError as failure:
            raise source.reading_error(failure, progress) from error
    finally:
        writer.close()
    return writer
