"""What-if generalisation: coarser quasi-identifiers, as polars expressions over text columns.

Each rule turns one column into a coarser one (ages into bands of 5, 10 or 20 years, dates into
months, quarters or years, postal or commune codes into départements or régions, rare values
grouped or suppressed, a column dropped): the levels of the built-in hierarchies the automatic
search walks (`hierarchies`, `solutions`).
Values a rule cannot read (an age "NA", a date in another format) are kept as they are, so the
measures still count them, and the partner sees them in the transformed copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.risk.hierarchies import REGION_OF
from hdh_wizard.inspect.risk.rekey import ReleaseKey
from hdh_wizard.inspect.risk.tables import column

OTHERS = "autres"  # the group that rare values join (French: the published data is French)
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d")


class Coarsening(StrEnum):
    AGE_5 = "age_5"
    AGE_10 = "age_10"
    AGE_20 = "age_20"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    DEPARTEMENT = "departement"
    REGION = "region"
    GROUP_RARE = "group_rare"
    SUPPRESS_RARE = "suppress_rare"
    REKEY = "rekey"  # a persistent identifier replaced by a random code per release (rekey)
    DROP = "drop"

    @property
    def needs_count(self) -> bool:
        return self in (Coarsening.GROUP_RARE, Coarsening.SUPPRESS_RARE)


_AGE_WIDTHS = {Coarsening.AGE_5: 5, Coarsening.AGE_10: 10, Coarsening.AGE_20: 20}


@dataclass(frozen=True)
class ColumnRule:
    column: str
    coarsening: Coarsening
    min_count: int = 0  # for the rare-value rules: values seen fewer times than this are rare

    def to_state(self) -> dict[str, object]:
        state: dict[str, object] = {"column": self.column, "rule": self.coarsening.value}
        if self.coarsening.needs_count:
            state["min_count"] = self.min_count
        return state


def rule_from_state(data: dict[str, object]) -> ColumnRule:
    try:
        coarsening = Coarsening(str(data["rule"]))
        min_count = int(str(data.get("min_count", 0)))
    except (KeyError, ValueError):
        raise HdhWizardError("risk.error.rule", rule=str(data.get("rule", ""))) from None
    return ColumnRule(str(data["column"]), coarsening, min_count)


def check_rules(rules: Sequence[ColumnRule], available: Sequence[str], table: str = "") -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.column not in available:
            raise HdhWizardError(
                "risk.error.unknown_columns",
                table=table,
                columns=rule.column,
                available=", ".join(available),
            )
        if rule.column in seen:
            raise HdhWizardError("risk.error.two_rules", column=rule.column)
        seen.add(rule.column)
        if rule.coarsening.needs_count and rule.min_count < 2:
            raise HdhWizardError("risk.error.min_count", value=str(rule.min_count))


def generalise(
    frame: pl.LazyFrame, rules: Sequence[ColumnRule], key: ReleaseKey | None = None
) -> pl.LazyFrame:
    """The frame with every rule applied (columns in their original order, dropped ones gone).

    Rare-value rules first count the column's values (one streaming pass each). A re-keyed
    column gets its codes only with the release's `key` (the copy written to `publish/`); without
    it the values stay as they are, which measures the same classes (one code per value)."""
    if not rules:
        return frame
    replaced: dict[str, pl.Expr] = {}
    dropped: set[str] = set()
    for rule in rules:
        if rule.coarsening is Coarsening.DROP:
            dropped.add(rule.column)
        elif rule.coarsening is Coarsening.REKEY:
            text = column(frame, rule.column).cast(pl.String)
            replaced[rule.column] = (key.expression(text) if key else text).alias(rule.column)
        else:
            replaced[rule.column] = _expression(frame, rule).alias(rule.column)
    names = frame.collect_schema().names()
    return frame.select(
        [replaced.get(n, pl.nth(i)) for i, n in enumerate(names) if n not in dropped]
    )


def _expression(frame: pl.LazyFrame, rule: ColumnRule) -> pl.Expr:
    text = column(frame, rule.column).cast(pl.String)
    match rule.coarsening:
        case Coarsening.AGE_5 | Coarsening.AGE_10 | Coarsening.AGE_20:
            return _age_band(text, _AGE_WIDTHS[rule.coarsening])
        case Coarsening.MONTH:
            return _keep_unread(text, _date(text).dt.strftime("%Y-%m"))
        case Coarsening.QUARTER:
            day = _date(text)
            quarter = pl.format("{}-T{}", day.dt.year(), day.dt.quarter())
            return _keep_unread(text, pl.when(day.is_not_null()).then(quarter))
        case Coarsening.YEAR:
            return _keep_unread(text, _date(text).dt.strftime("%Y"))
        case Coarsening.DEPARTEMENT:
            return _departement(text)
        case Coarsening.REGION:
            departement = _departement(text)
            region = departement.replace_strict(REGION_OF, default=None, return_dtype=pl.String)
            return _keep_unread(departement, region)
        case Coarsening.GROUP_RARE | Coarsening.SUPPRESS_RARE:
            frequent = _frequent_values(frame, rule.column, rule.min_count)
            # Values are kept by listing the frequent ones: there are at most rows / min_count.
            rare = text.is_not_null() & ~text.is_in(pl.lit(frequent).implode())
            other = pl.lit(OTHERS) if rule.coarsening is Coarsening.GROUP_RARE else pl.lit(None)
            return pl.when(rare).then(other).otherwise(text)
    raise AssertionError(rule.coarsening)  # DROP and REKEY are handled by the caller


def _keep_unread(text: pl.Expr, coarse: pl.Expr) -> pl.Expr:
    return pl.when(coarse.is_not_null()).then(coarse).otherwise(text)


def _age_band(text: pl.Expr, width: int) -> pl.Expr:
    age = text.str.strip_chars().str.replace(",", ".").cast(pl.Float64, strict=False)
    low = (age // width * width).cast(pl.Int64)
    band = pl.format("{}-{}", low, low + width - 1)
    return pl.when(age.is_not_null() & (age >= 0) & (age < 200)).then(band).otherwise(text)


def _date(text: pl.Expr) -> pl.Expr:
    head = text.str.extract(r"^\s*([^\sT]+)")  # a datetime's date part, however padded
    # Four-digit years only: polars would read "09/03/14" as the year 14.
    full = head.str.contains(
        r"^(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|(19|20)\d{6})$"
    )
    parsed = pl.coalesce([head.str.to_date(f, strict=False) for f in _DATE_FORMATS])
    return pl.when(full).then(parsed)


def _departement(text: pl.Expr) -> pl.Expr:
    """Postal code or INSEE commune code → département (2A/2B for Corsica, 3 digits overseas)."""
    code = text.str.strip_chars()
    # A postal code read as a number lost its leading zero: 1000 is 01000.
    code = pl.when(code.str.contains(r"^\d{4}$")).then(code.str.zfill(5)).otherwise(code)
    digits = code.str.contains(r"^\d{5}$")
    corsica_postal = digits & code.str.starts_with("20")
    number = code.cast(pl.Int64, strict=False)
    overseas = code.str.contains(r"^9[78]\d{3}$")
    commune = code.str.contains(r"^2[AB]\d{3}$")
    return (
        pl.when(corsica_postal)
        .then(pl.when(number < 20200).then(pl.lit("2A")).otherwise(pl.lit("2B")))
        .when(overseas)
        .then(code.str.slice(0, 3))
        .when(digits | commune)
        .then(code.str.slice(0, 2))
        .otherwise(text)
    )


def _frequent_values(frame: pl.LazyFrame, name: str, min_count: int) -> pl.Series:
    counts = (
        frame.group_by(column(frame, name).cast(pl.String).alias("v"))
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") >= min_count)
        .select("v")
        .collect(engine="streaming")
    )
    return counts.get_column("v").drop_nulls()
