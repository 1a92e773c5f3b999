"""Schema migrations of the state file.

A state file records the `schema_version` it was written with. When the layout changes, the
version goes up by one and a migration is added to `MIGRATIONS`: key `n` turns a document of
schema `n` into one of schema `n + 1`. Migrations work on the plain loaded YAML document (dicts,
lists, scalars), before it is validated, so an old file is read by the current validator only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

SCHEMA_VERSION = 1

Migration = Callable[[dict[str, Any]], dict[str, Any]]

# Empty while schema 1 is the first and only schema.
MIGRATIONS: dict[int, Migration] = {}


class MigrationError(ValueError):
    """No migration leads from `found` to `target`: `missing` is the first absent step."""

    def __init__(self, found: int, target: int, missing: int) -> None:
        self.found = found
        self.target = target
        self.missing = missing
        super().__init__(
            f"cannot migrate a schema {found} document to schema {target}: "
            f"no migration from schema {missing} to {missing + 1}"
        )


def migrate(
    data: dict[str, Any],
    found_version: int,
    migrations: Mapping[int, Migration],
    target: int = SCHEMA_VERSION,
) -> dict[str, Any]:
    """Bring `data` from schema `found_version` to `target`, one step at a time.

    The caller's document is never modified. Each step's result gets its `schema_version` set,
    so a migration only has to change the layout. Raises `MigrationError` when a step is missing
    (checked before any migration runs) or when the document is newer than `target`.
    """
    if found_version > target:
        raise MigrationError(found_version, target, found_version)
    for version in range(found_version, target):
        if version not in migrations:
            raise MigrationError(found_version, target, version)
    document = copy.deepcopy(data)
    for version in range(found_version, target):
        document = migrations[version](document)
        document["schema_version"] = version + 1
    return document
