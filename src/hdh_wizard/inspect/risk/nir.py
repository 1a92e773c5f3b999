"""The French social-security number (NIR), which is also the national health identifier (INS).

Fifteen characters, separators aside: a 13-character body and a 2-digit key.

    position  1      sex: 1 man, 2 woman; 3/4 and 7/8 for provisional numbers (foreign-born
                     people being registered, temporary NIA)
              2-3    year of birth (two last digits)
              4-5    month of birth: 01-12; 20-42 or 50-99 when the civil record has no month
              6-10   place of birth: département (2 digits, 2A/2B for Corsica, 97/98 followed by
                     a 3-digit overseas code, 99 abroad, 91-96 former North-African territories)
                     and commune (or country) code: 5 characters in all
              11-13  order number of the birth record
              14-15  key = 97 - (body mod 97), the body read with 2A as 19 and 2B as 18

`nir_is_valid` checks one string; `nir_valid_expr` is the same check as a polars expression, so a
whole column is checked in one streaming pass. Both accept spaces (also non-breaking), dots and
dashes as separators, and a lower-case a/b in 2A/2B.
"""

from __future__ import annotations

import re

import polars as pl

# Digits are written [0-9], never \d: \d also matches other scripts' digits, which Python's int()
# reads and polars' cast does not, and the two checks must agree on every string.
SEPARATORS = r"[ \t\u00a0\u202f.\-]"
SHAPE = (
    r"^[123478]"  # sex, provisional numbers included
    r"[0-9]{2}"  # year
    r"(?:0[1-9]|1[0-2]|2[0-9]|3[0-9]|4[0-2]|[5-9][0-9])"  # month, or unknown-month codes
    r"(?:2[ABab]|[0-9]{2})[0-9]{3}"  # département (Corsica 2A/2B) and commune
    r"[0-9]{3}"  # order number
    r"[0-9]{2}$"  # key
)
# The same shape, each character a class (alternatives for the month and the département), so
# that separators can be allowed between any two of them: `SPACED_SHAPE` matches a value exactly
# when the value with its separators removed matches `SHAPE`. One regex then tells, in the
# identifier scan's single pass, which columns hold NIR-shaped values; the costlier key check
# (separators removed, Corsica's letters replaced, a modulus) runs only on those columns.
_DIGIT = "[0-9]"
_SHAPE_PARTS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("[123478]",),),
    ((_DIGIT,),),
    ((_DIGIT,),),
    (("0", "[1-9]"), ("1", "[0-2]"), ("[2-3]", _DIGIT), ("4", "[0-2]"), ("[5-9]", _DIGIT)),
    (("2", "[ABab]"), (_DIGIT, _DIGIT)),
    *(((_DIGIT,),) for _ in range(3 + 3 + 2)),  # commune, order number, key
)


def _shape_with_gaps(gap: str) -> str:
    groups = []
    for alternatives in _SHAPE_PARTS:
        joined = [gap.join(chars) for chars in alternatives]
        groups.append(joined[0] if len(joined) == 1 else "(?:" + "|".join(joined) + ")")
    return "^" + gap + gap.join(groups) + gap + "$"


SPACED_SHAPE = _shape_with_gaps(SEPARATORS + "*")
BODY = 13
MODULUS = 97
# Corsica's letters stand for these numbers in the key computation.
_LETTERS = {"2A": "19", "2a": "19", "2B": "18", "2b": "18"}

_SEPARATORS = re.compile(SEPARATORS)
_SHAPE = re.compile(SHAPE)


def nir_key(body: str) -> int:
    """The key of a 13-character body (2A/2B allowed): what the last two digits must be."""
    for letters, digits in _LETTERS.items():
        body = body.replace(letters, digits)
    return MODULUS - int(body) % MODULUS


def nir_is_valid(text: str) -> bool:
    compact = _SEPARATORS.sub("", text)
    if not _SHAPE.fullmatch(compact):  # fullmatch: `$` alone would let a final newline pass
        return False
    return nir_key(compact[:BODY]) == int(compact[BODY:])


def nir_compact_expr(expr: pl.Expr) -> pl.Expr:
    """The values as text, separators removed: what `nir_valid_expr(..., compact=True)` reads."""
    return expr.cast(pl.String).str.replace_all(SEPARATORS, "")


def nir_valid_expr(expr: pl.Expr, *, compact: bool = False) -> pl.Expr:
    """True where the value is a NIR with a valid key, False elsewhere (nulls included).

    `compact=True` when `expr` is already `nir_compact_expr(...)`, computed once upstream: polars
    would otherwise remove the separators again for each use below.
    """
    text = expr if compact else nir_compact_expr(expr)
    # Letters can only stand at the département once the shape is checked, so replacing every
    # 2A/2B of the body replaces that one.
    body = text.str.slice(0, BODY).str.replace_many(list(_LETTERS), list(_LETTERS.values()))
    number = body.cast(pl.UInt64, strict=False)
    key = text.str.slice(BODY, 2).cast(pl.UInt64, strict=False)
    valid = text.str.contains(SHAPE) & (key == pl.lit(MODULUS, pl.UInt64) - number % MODULUS)
    return valid.fill_null(False)
