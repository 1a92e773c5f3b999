"""Re-keying a persistent identifier: a new random code per release, the same in every table.

A patient or stay number kept as it is in open data is pseudonymisation, not anonymisation
(CNIL): it links the records to the same person in any other source that uses it, and from one
release to the next. Re-keyed, each value becomes a code computed with a key drawn at random
for this release (keyed BLAKE2b, a pseudo-random function): the codes are unrelated to the
source values — nobody without the key can tell which code stands for which number, or recompute
them — and the same value gets the same code in every table re-keyed with the same key, so joins
between the release's tables still work. The key is kept in memory only; the correspondence is
never written to `publish/`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

import polars as pl

KEY_BYTES = 32
CODE_BYTES = 8  # 16 hex digits: two of 20 million values share a code with probability ~1e-5
_FINGERPRINT_LABEL = b"hdh-wizard release key"


@dataclass(frozen=True)
class ReleaseKey:
    """The key of one release's codes. Its repr never shows it."""

    secret: bytes = field(repr=False)

    @classmethod
    def new(cls) -> ReleaseKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @property
    def fingerprint(self) -> str:
        """Which key made a copy (copies re-keyed with different keys do not join): a digest
        from which the key cannot be found."""
        return hashlib.blake2b(_FINGERPRINT_LABEL, key=self.secret, digest_size=6).hexdigest()

    def code(self, value: str) -> str:
        digest = hashlib.blake2b(value.encode("utf-8"), key=self.secret, digest_size=CODE_BYTES)
        return digest.hexdigest()

    def expression(self, text: pl.Expr) -> pl.Expr:
        """`text` re-keyed; empty values stay empty (an empty value is no one's code)."""

        def codes(batch: pl.Series) -> pl.Series:
            return pl.Series([self.code(v) if v else v for v in batch.to_list()], dtype=pl.String)

        return text.map_batches(codes, return_dtype=pl.String, is_elementwise=True)
