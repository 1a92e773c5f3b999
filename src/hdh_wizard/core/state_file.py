"""The project's state file: `hdh-release.yaml`, human-readable, versioned, saved atomically.

Layout (schema 1), in this order so that a person opening the file reads it top-down:
`schema_version`, `name`, `created_at`, `actor`, `target`, `route_preview`, `measured_bytes`,
`files`, `steps` (every step of both routes, in the order of `core.steps.STEPS`), `audit`.

Saving never leaves a half-written file: the new version is written beside it, synced, and
renamed over the old one; the previous version is kept as `hdh-release.yaml.bak`. Loading turns
every problem a person can cause (hand edits, a wrong file, a newer wizard) into a
`StateFileError` naming the file, the line and what to do, never into a traceback.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shlex
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from enum import Enum, StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hdh_wizard.core.enums import Environment, Role, Route, StepStatus
from hdh_wizard.core.migrations import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Migration,
    MigrationError,
    migrate,
)
from hdh_wizard.core.release import (
    AuditAction,
    AuditEntry,
    DataFile,
    Person,
    Release,
    StepRecord,
    Target,
)
from hdh_wizard.core.safe_files import (
    check_not_linked,
    replace_atomically,
    write_atomically,
    write_temporary,
)
from hdh_wizard.core.steps import STEPS, StepId
from hdh_wizard.errors import HdhWizardError, StateFileError

try:  # libyaml is much faster on long audit trails; the pure-Python classes behave the same.
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

STATE_FILE_NAME = "hdh-release.yaml"
BACKUP_SUFFIX = ".bak"
BROKEN_INFIX = ".broken-"

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_STR_TAG = "tag:yaml.org,2002:str"
_WIDTH = 1_000_000  # never fold long lines: descriptions stay on one line, diffs stay readable

Where = tuple[str | int, ...]  # a place in the document: mapping keys and list indexes
E = TypeVar("E", bound=StrEnum)


def state_path(folder: Path) -> Path:
    """The state file of the project in `folder`."""
    return folder / STATE_FILE_NAME


def backup_path(path: Path) -> Path:
    """The backup kept beside the state file `path`."""
    return path.with_name(path.name + BACKUP_SUFFIX)


# --- YAML flavour ----------------------------------------------------------------------------


class _Loader(_BaseLoader):
    """Safe loading, except that dates stay strings: the validator parses the dates it expects,
    and dates that callers stored in step outputs come back as the strings they saved."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


class _Dumper(_BaseDumper):
    """Safe dumping, with multi-line texts written as literal blocks (`|`) a person can read."""


def _represent_str(dumper: _Dumper, value: str) -> Node:
    # The emitter falls back to a quoted style when a literal block could not round-trip.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar(_STR_TAG, value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_release(release: Release) -> str:
    """The state file's text for `release`; raises `UnsavableValueError` or ValueError (see
    `release_to_dict`), so that no text is made that `load_release` would refuse."""
    return yaml.dump(
        release_to_dict(release),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=_WIDTH,
    )


# --- release → document ----------------------------------------------------------------------

# Key names that hold credentials, compared word by word after folding case, `-` and camelCase.
_SECRET_PHRASES: tuple[tuple[str, ...], ...] = (
    ("api", "key"),
    ("apikey",),
    ("x", "api", "key"),
    ("secret",),
    ("password",),
    ("token",),
    ("access", "key"),
    ("secret", "key"),
)


def looks_like_secret(key: str) -> bool:
    """Whether an outputs key names a credential (`X-API-KEY`, `apiKey`, `upload_token`…)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    words = tuple(w for w in re.split(r"[-_\s.]+", spaced.lower()) if w)
    for phrase in _SECRET_PHRASES:
        if "".join(phrase) in words:
            return True
        size = len(phrase)
        if any(words[i : i + size] == phrase for i in range(len(words) - size + 1)):
            return True
    return False


class UnsavableValueError(HdhWizardError, ValueError):
    """A value the state file could not give back: `load_release` would refuse the file.

    Raised before anything is written, its message names the field (`name`, `files[2].path`,
    `steps.contract.reason`…). It is a ValueError too, as every refusal to save is.
    """


# The loader's refusals, and the message each one gets when met while saving instead.
_UNSAVED_KEYS = {
    "state.invalid_value": "state.unsaved_invalid_value",
    "state.value_too_long": "state.unsaved_value_too_long",
    "state.forbidden_character": "state.unsaved_forbidden_character",
    "state.empty_value": "state.unsaved_empty_value",
    "state.date_out_of_range": "state.unsaved_date_out_of_range",
    "state.nested_too_deeply": "state.unsaved_nested_too_deeply",
    "state.too_many_values": "state.unsaved_too_many_values",
    "state.secret_key": "state.unsaved_secret_key",
}


def _unsavable(problem: _Problem) -> UnsavableValueError:
    """The loader's refusal of a value, as the refusal to save it (no line: not yet written)."""
    params = {name: value for name, value in problem.params.items() if name != "line"}
    key = _UNSAVED_KEYS.get(problem.key)
    if key is None:  # a refusal without its own message: name the field at least
        return UnsavableValueError("state.unsaved_value", field=params.get("field", "?"))
    return UnsavableValueError(key, **params)


def release_to_dict(release: Release) -> dict[str, Any]:
    """The plain document saved for `release`, `schema_version` first.

    Raises ValueError for what must never reach the file: a key that looks like a credential
    (those live in the keyring), a value YAML cannot store as plain data, a date without a
    timezone, or a step id that is not one of the guide's. Raises `UnsavableValueError` (a
    ValueError) for a value the loader would refuse, naming its field: the document is checked
    by the loader's own rules, so that the wizard never writes a file it cannot read back.
    """
    known = set(StepId)
    unknown = [key for key in release.steps if key not in known]
    if unknown:
        raise ValueError(f"unknown step ids in release.steps: {unknown!r}")
    document = _release_document(release)
    try:
        _Document(None).release(document)
    except _Problem as problem:
        raise _unsavable(problem) from None
    return document


def _release_document(release: Release) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "name": release.name,
        "created_at": _iso(release.created_at, "created_at"),
        "actor": _person_to_dict(release.actor),
        "target": {"environment": release.target.environment.value, "url": release.target.url},
        "route_preview": release.route_preview.value,
        "measured_bytes": release.measured_bytes,
        "files": [_file_to_dict(f) for f in release.files],
        "steps": {
            step.id.value: _record_to_dict(release.record(step.id), step.id) for step in STEPS
        },
        "audit": [_audit_to_dict(entry, i) for i, entry in enumerate(release.audit, 1)],
    }


def _iso(moment: datetime, where: str) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{where}: a date without a timezone cannot be saved ({moment!r})")
    return moment.isoformat()


def _person_to_dict(person: Person) -> dict[str, Any]:
    return {"name": person.name, "role": person.role.value}


def _file_to_dict(data_file: DataFile) -> dict[str, Any]:
    return {
        "path": data_file.path,
        "size": data_file.size,
        "mtime_ns": data_file.mtime_ns,
        "fingerprint": data_file.fingerprint,
    }


def _record_to_dict(record: StepRecord, step_id: StepId) -> dict[str, Any]:
    where = f"steps.{step_id.value}"
    return {
        "status": record.status.value,
        "reason": record.reason,
        "outputs": _plain_outputs(record.outputs, f"{where}.outputs"),
        "updated_at": None if record.updated_at is None else _iso(record.updated_at, where),
        "updated_by": None if record.updated_by is None else _person_to_dict(record.updated_by),
    }


def _audit_to_dict(entry: AuditEntry, number: int) -> dict[str, Any]:
    return {
        "at": _iso(entry.at, f"audit[{number}]"),
        "actor": entry.actor.name,
        "role": entry.actor.role.value,
        "action": entry.action.value,
        "step": None if entry.step is None else entry.step.value,
        "detail": entry.detail,
    }


def _plain_outputs(outputs: Mapping[str, Any], where: str) -> dict[str, Any]:
    return {_plain_key(key, where): _plain(v, f"{where}.{key}") for key, v in outputs.items()}


def _plain(value: Any, where: str) -> Any:
    """`value` as YAML-safe plain data; enum members become their values (they compare equal)."""
    if value is None or isinstance(value, bool):
        return value
    # The base types' own conversions: an enum's __str__ may give "Class.MEMBER".
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, list):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value, 1)]
    if isinstance(value, dict):
        return _plain_outputs(value, where)
    raise ValueError(
        f"{where}: {type(value).__name__} is not plain YAML data "
        "(use str, int, float, bool, None, list or dict; dates as ISO strings)"
    )


def _plain_key(key: Any, where: str) -> str:
    if not isinstance(key, str):
        raise ValueError(f"{where}: output keys must be strings, not {key!r}")
    if looks_like_secret(key):
        raise ValueError(
            f"{where}.{key}: looks like a secret; credentials belong in the keyring, "
            "never in the state file"
        )
    return str.__str__(key)


# --- document → release ----------------------------------------------------------------------


class _Problem(Exception):
    """A reason the document cannot be used, before the file's path and backup are known."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


# What a value should look like, written as examples or choices so that the same text serves
# the French and the English messages.
_EXPECT_TEXT = '"…"'
_EXPECT_DATE = "2026-01-31T14:05:00+00:00"
_EXPECT_MAPPING = "{…: …}"
_EXPECT_LIST = "[…]"
_EXPECT_PLAIN = '"…" | 1 | 0.5 | true | false | null | […] | {…: …}'
_EXPECT_PATH = '"donnees/patients.csv" | "/srv/donnees/patients.csv"'
_EXPECT_URL = "https://…"

# Bounds of what a state file may hold. The wizard never comes near them; a hand edit beyond
# them would freeze the screen (a 10 MB name), overflow a date's arithmetic (year 9999 in a
# timezone west of UTC) or reach the file system with a NUL byte. So they are refused at load,
# where the field and its line can still be named, rather than met later by whatever code
# happens to read them.
NAME_MAX = 500  # the release's name; data.gouv.fr's own titles stop at 350
PERSON_MAX = 200  # a person's name
PATH_MAX = 4096  # a data path: Linux's PATH_MAX
FINGERPRINT_MAX = 200  # "fp1:" and 64 hex digits today
URL_MAX = 2048  # what browsers and servers commonly accept
REASON_MAX = 10_000  # why a step is skipped, blocked or stale: typed by a person
DETAIL_MAX = 1_000_000  # an audit entry's detail: may list every changed data path
OUTPUT_TEXT_MAX = 1_000_000  # a text in step outputs: a documentation is up to 100 000
OUTPUT_KEY_MAX = PATH_MAX  # outputs keys may be data paths (uploads under way)
OUTPUT_DEPTH_MAX = 32  # levels of lists and mappings under `outputs` (the wizard uses 4)
OUTPUT_VALUES_MAX = 1_000_000  # values (texts, numbers, lists…) in one step's outputs
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what a file size or a time in ns fits in
YEAR_MIN, YEAR_MAX = 1970, 2200  # dates: any other year is a typo, and year 9999 overflows

_EXPECT_COUNT = f"0, 1, 2, … {INT_MAX}"
_EXPECT_INTEGER = f"{INT_MIN} … {INT_MAX}"

# Characters refused, by kind of text. Names are one line of printable text. Free texts may
# hold tabs and line breaks, never other control characters (a terminal runs ESC sequences).
# Paths only refuse NUL: any other character may be in a real file name (the presenters show
# control characters escaped), and refusing one would lock a real project out of its state.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NUL = re.compile(r"\x00")

_STATUSES_WITH_REASON = frozenset({StepStatus.SKIPPED, StepStatus.BLOCKED, StepStatus.STALE})


def _choices(enum: type[Enum]) -> str:
    return " | ".join(str(member.value) for member in enum)


_PART_MAX = 60  # characters of one key shown in a field's name


def _dotted(where: Where) -> str:
    """`steps.contract.status`; list entries are counted from 1, as a person counts them.

    A key that is long or holds odd characters (a hand-made outputs key) is shown quoted,
    escaped and shortened, so that the message stays one readable line.
    """
    text = ""
    for part in where:
        if isinstance(part, int):
            text += f"[{part + 1}]"
            continue
        name = part if part.isprintable() and len(part) <= _PART_MAX else _show(part, _PART_MAX)
        text += f".{name}" if text else name
    return text


def _show(value: Any, limit: int = 80) -> str:
    """A short, language-neutral rendering of a value found in the file, control and format
    characters escaped (they would act on the terminal, or reverse the text's direction)."""
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]  # not a 10 MB text to render only 80 characters of it
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c
        for c in text[: limit * 8]
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _code(character: str) -> str:
    return f"U+{ord(character):04X}"


class _Document:
    """Validates the loaded data, and finds the line of any place in it in the node tree."""

    def __init__(self, root: Node | None) -> None:
        self.root = root
        self._budget = 0  # values left to read in the current step's outputs

    # -- where things are

    def line(self, where: Where) -> int | str:
        """The 1-based line of `where`: the line of its key when it is a mapping's value.

        Best effort: after a migration the place may not exist in the file as written; the line
        of its nearest existing ancestor is given then.
        """
        if self.root is None or self.root.start_mark is None:
            return "?"
        node: Node = self.root
        line: int = node.start_mark.line + 1
        for part in where:
            found = _child(node, part)
            if found is None:
                break
            mark_node, node = found
            line = mark_node.start_mark.line + 1
        return line

    # -- failing

    def missing(self, where: Where, name: str) -> NoReturn:
        raise _Problem("state.missing_field", field=_dotted((*where, name)), line=self.line(where))

    def invalid(self, where: Where, value: Any, expected: str) -> NoReturn:
        raise _Problem(
            "state.invalid_value",
            field=_dotted(where),
            line=self.line(where),
            value=_show(value),
            expected=expected,
        )

    def fail(self, key: str, where: Where, **params: Any) -> NoReturn:
        raise _Problem(key, field=_dotted(where), line=self.line(where), **params)

    # -- reading typed values

    def field(self, mapping: dict[Any, Any], where: Where, name: str) -> Any:
        if name not in mapping:
            self.missing(where, name)
        return mapping[name]

    def mapping(self, value: Any, where: Where) -> dict[Any, Any]:
        if not isinstance(value, dict):
            self.invalid(where, value, _EXPECT_MAPPING)
        return value

    def sequence(self, value: Any, where: Where) -> list[Any]:
        if not isinstance(value, list):
            self.invalid(where, value, _EXPECT_LIST)
        return value

    def text(
        self,
        value: Any,
        where: Where,
        *,
        limit: int,
        refused: re.Pattern[str] = _CONTROL,
        required: bool = False,
    ) -> str:
        """A text of at most `limit` characters, none of `refused`; not blank if `required`."""
        if not isinstance(value, str):
            self.invalid(where, value, _EXPECT_TEXT)
        if len(value) > limit:
            self.fail("state.value_too_long", where, length=len(value), max=limit)
        if (bad := refused.search(value)) is not None:
            self.fail(
                "state.forbidden_character", where, character=_code(bad.group()), value=_show(value)
            )
        if required and not value.strip():
            self.fail("state.empty_value", where)
        return value

    def name(self, value: Any, where: Where, *, limit: int = PERSON_MAX) -> str:
        """A release's or a person's name: one line, not blank (the wizard asks for one)."""
        return self.text(value, where, limit=limit, required=True)

    def path(self, value: Any, where: Where) -> str:
        """A data path as `stored_path` writes it: POSIX, relative to the project folder or
        absolute, normalised (never `..`), never the project folder itself."""
        path = self.text(value, where, limit=PATH_MAX, refused=_NUL, required=True)
        parts = path.split("/")
        if ".." in parts or PurePosixPath(path) == PurePosixPath("."):
            self.invalid(where, value, _EXPECT_PATH)
        return path

    def url(self, value: Any, where: Where, environment: Environment) -> str:
        """A portal's address: http(s) with a host. (A rehearsal may aim the production target at
        a local data.gouv.fr: the tests do; the API key from the environment still goes only to
        data.gouv.fr or to the portal HDH_WIZARD_API_URL names.)"""
        url = self.text(value, where, limit=URL_MAX, required=True)
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
        except ValueError:
            self.invalid(where, value, _EXPECT_URL)
        if parts.scheme not in ("https", "http") or not parts.hostname or " " in url:
            self.invalid(where, value, _EXPECT_URL)
        return url

    def integer(self, value: Any, where: Where, *, minimum: int = INT_MIN) -> int:
        expected = _EXPECT_INTEGER if minimum == INT_MIN else _EXPECT_COUNT
        # bool is an int in Python, but `true` is not a size.
        if not isinstance(value, int) or isinstance(value, bool):
            self.invalid(where, value, expected)
        if not minimum <= value <= INT_MAX:
            self.invalid(where, value, expected)
        return value

    def choice(self, enum: type[E], value: Any, where: Where) -> E:
        if isinstance(value, str):
            try:
                return enum(value)
            except ValueError:
                pass
        self.invalid(where, value, _choices(enum))

    def moment(self, value: Any, where: Where) -> datetime:
        if isinstance(value, str) and len(value) <= 64:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                if parsed.utcoffset() is not None:  # the timezone is required
                    # Within these years, converting to any timezone stays within datetime's.
                    if not YEAR_MIN <= parsed.year <= YEAR_MAX:
                        self.fail(
                            "state.date_out_of_range",
                            where,
                            value=_show(value),
                            first=YEAR_MIN,
                            last=YEAR_MAX,
                        )
                    return parsed
        self.invalid(where, value, _EXPECT_DATE)

    def outputs(self, value: Any, where: Where) -> dict[str, Any]:
        """A step's outputs: plain data, bounded in depth, in count and in each text's length."""
        data = self.mapping(value, where)
        self._budget = OUTPUT_VALUES_MAX
        plain: dict[str, Any] = self.plain(data, where, OUTPUT_DEPTH_MAX)
        return plain

    def plain(self, value: Any, where: Where, depth: int) -> Any:
        """Step outputs: only what `release_to_dict` can write back (no sets, bytes…), and
        nothing its readers could choke on (a NUL, an integer beyond 64 bits, an infinity)."""
        self._budget -= 1
        if self._budget < 0:
            self.fail("state.too_many_values", where[:3], max=OUTPUT_VALUES_MAX)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            return self.text(value, where, limit=OUTPUT_TEXT_MAX, refused=_NUL)
        if isinstance(value, int):
            return self.integer(value, where)
        if isinstance(value, float):
            if not math.isfinite(value):
                self.invalid(where, value, _EXPECT_PLAIN)
            return value
        if isinstance(value, list | dict) and depth == 0:
            self.fail("state.nested_too_deeply", where, max=OUTPUT_DEPTH_MAX)
        if isinstance(value, list):
            return [self.plain(item, (*where, i), depth - 1) for i, item in enumerate(value)]
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    self.invalid((*where, str(key)), key, _EXPECT_TEXT)
                self.text(key, (*where, key), limit=OUTPUT_KEY_MAX, refused=_NUL)
                if looks_like_secret(key):  # credentials live in the keyring, never here
                    self.fail("state.secret_key", (*where, key))
            return {key: self.plain(item, (*where, key), depth - 1) for key, item in value.items()}
        self.invalid(where, value, _EXPECT_PLAIN)

    # -- the release

    def release(self, data: dict[Any, Any]) -> Release:
        read = self.field
        name = self.name(read(data, (), "name"), ("name",), limit=NAME_MAX)
        created_at = self.moment(read(data, (), "created_at"), ("created_at",))
        actor = self.person(read(data, (), "actor"), ("actor",))
        target = self.target(read(data, (), "target"), ("target",))
        route = self.choice(Route, read(data, (), "route_preview"), ("route_preview",))
        measured = read(data, (), "measured_bytes")
        if measured is not None:
            measured = self.integer(measured, ("measured_bytes",), minimum=0)
        files = self.sequence(read(data, (), "files"), ("files",))
        steps = self.mapping(read(data, (), "steps"), ("steps",))
        audit = self.sequence(read(data, (), "audit"), ("audit",))
        return Release(
            name=name,
            created_at=created_at,
            actor=actor,
            target=target,
            files=tuple(self.data_file(f, ("files", i)) for i, f in enumerate(files)),
            steps=self.steps(steps),
            audit=tuple(self.audit_entry(a, ("audit", i)) for i, a in enumerate(audit)),
            measured_bytes=measured,
            route_preview=route,
        )

    def person(self, value: Any, where: Where) -> Person:
        data = self.mapping(value, where)
        name = self.name(self.field(data, where, "name"), (*where, "name"))
        role = self.choice(Role, self.field(data, where, "role"), (*where, "role"))
        return Person(name, role)

    def target(self, value: Any, where: Where) -> Target:
        data = self.mapping(value, where)
        environment = self.choice(
            Environment, self.field(data, where, "environment"), (*where, "environment")
        )
        url = self.url(self.field(data, where, "url"), (*where, "url"), environment)
        return Target(environment, url)

    def data_file(self, value: Any, where: Where) -> DataFile:
        data = self.mapping(value, where)
        get = self.field
        return DataFile(
            path=self.path(get(data, where, "path"), (*where, "path")),
            size=self.integer(get(data, where, "size"), (*where, "size"), minimum=0),
            mtime_ns=self.integer(get(data, where, "mtime_ns"), (*where, "mtime_ns")),
            fingerprint=self.text(
                get(data, where, "fingerprint"), (*where, "fingerprint"), limit=FINGERPRINT_MAX
            ),
        )

    def steps(self, data: dict[Any, Any]) -> dict[StepId, StepRecord]:
        records: dict[StepId, StepRecord] = {}
        for key, value in data.items():
            where: Where = ("steps", str(key))
            step_id = self.choice(StepId, key, where)
            records[step_id] = self.step_record(value, where)
        # Checklist order, and untouched steps left out as the workflow leaves them out, so
        # that a saved and reloaded release equals the one saved.
        return {
            step.id: records[step.id]
            for step in STEPS
            if step.id in records and records[step.id] != StepRecord()
        }

    def step_record(self, value: Any, where: Where) -> StepRecord:
        data = self.mapping(value, where)
        status = self.choice(StepStatus, self.field(data, where, "status"), (*where, "status"))
        # Only the status is required: a person may trim a step down to it by hand.
        reason = self.text(
            data.get("reason", ""),
            (*where, "reason"),
            limit=REASON_MAX,
            refused=_CONTROL_BUT_LINES,
        )
        # The workflow clears the reason whenever a step leaves these statuses; the checklist
        # has no words for a reason on another one.
        if reason and status not in _STATUSES_WITH_REASON:
            self.invalid((*where, "reason"), reason, '""')
        outputs = self.outputs(data.get("outputs", {}), (*where, "outputs"))
        updated_at = data.get("updated_at")
        updated_by = data.get("updated_by")
        return StepRecord(
            status=status,
            outputs=outputs,
            reason=reason,
            updated_at=None
            if updated_at is None
            else self.moment(updated_at, (*where, "updated_at")),
            updated_by=None
            if updated_by is None
            else self.person(updated_by, (*where, "updated_by")),
        )

    def audit_entry(self, value: Any, where: Where) -> AuditEntry:
        data = self.mapping(value, where)
        get = self.field
        at = self.moment(get(data, where, "at"), (*where, "at"))
        name = self.name(get(data, where, "actor"), (*where, "actor"))
        role = self.choice(Role, get(data, where, "role"), (*where, "role"))
        action = self.choice(AuditAction, get(data, where, "action"), (*where, "action"))
        step = data.get("step")
        return AuditEntry(
            at=at,
            actor=Person(name, role),
            action=action,
            step=None if step is None else self.choice(StepId, step, (*where, "step")),
            # The detail may list data paths, and those may hold any character but NUL.
            detail=self.text(
                data.get("detail", ""), (*where, "detail"), limit=DETAIL_MAX, refused=_NUL
            ),
        )


def check_name(value: str, field: str, *, limit: int = PERSON_MAX) -> str:
    """`value` when a state file can hold it as a release's or a person's name: not blank, one
    line without control characters, at most `limit` characters (`NAME_MAX` for a release).

    The loader's own rule, for the forms and the command line to refuse such a name where it is
    typed. Raises `UnsavableValueError` naming `field` (a label the person sees) otherwise.
    """
    try:
        return _Document(None).name(value, (field,), limit=limit)
    except _Problem as problem:
        raise _unsavable(problem) from None


def _child(node: Node, part: str | int) -> tuple[Node, Node] | None:
    """The node whose line names `part` (a key, or a list entry) and the value node under it."""
    if isinstance(node, MappingNode) and isinstance(part, str):
        found = None
        for key_node, value_node in node.value:  # the last duplicate wins, as in the data
            if isinstance(key_node, ScalarNode) and key_node.value == part:
                found = (key_node, value_node)
        return found
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item: Node = node.value[part]
        return item, item
    return None


def _release_from(data: Any, root: Node | None, migrations: Mapping[int, Migration]) -> Release:
    """Check the schema version, migrate an older document, and validate it."""
    document = _Document(root)
    if not isinstance(data, dict):
        raise _Problem("state.not_a_mapping")
    version = document.field(data, (), "schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        document.invalid(("schema_version",), version, _EXPECT_COUNT)
    if version > SCHEMA_VERSION:
        raise _Problem("state.newer_schema", found=version, supported=SCHEMA_VERSION)
    if version < SCHEMA_VERSION:
        data = _migrated(data, version, migrations)
        if not isinstance(data, dict):
            raise _Problem(
                "state.migration_failed",
                found=version,
                supported=SCHEMA_VERSION,
                reason=f"the migration returned a {type(data).__name__}",
            )
    return document.release(data)


def _migrated(data: dict[str, Any], version: int, migrations: Mapping[int, Migration]) -> Any:
    try:
        return migrate(data, version, migrations)
    except MigrationError as error:
        raise _Problem(
            "state.migration_missing",
            found=version,
            supported=SCHEMA_VERSION,
            missing=error.missing,
        ) from None
    except Exception as error:
        # A migration meets whatever an old file holds, hand edits included: its failure is
        # the file's problem to report, not a crash.
        raise _Problem(
            "state.migration_failed",
            found=version,
            supported=SCHEMA_VERSION,
            reason=f"{type(error).__name__}: {error}",
        ) from None


def release_from_document(
    document: Any,
    *,
    path: Path,
    root: Node | None = None,
    migrations: Mapping[int, Migration] = MIGRATIONS,
) -> Release:
    """The release held by a loaded document (migrated first when older).

    `root` is the document's composed node tree (`yaml.compose`), used for line numbers;
    without it lines show as `?`. Raises `StateFileError` naming `path`.
    """
    try:
        return _release_from(document, root, migrations)
    except _Problem as problem:
        raise _state_error(problem, path, backup=None) from None


# --- reading the file ------------------------------------------------------------------------


def load_release(path: Path, migrations: Mapping[int, Migration] = MIGRATIONS) -> Release:
    """Read the state file at `path`.

    Every problem raises `StateFileError` with a catalogue key, the file, its parameters (line
    numbers are 1-based) and `backup` set when `hdh-release.yaml.bak` exists and loads fine.
    """
    try:
        return _load(path, migrations)
    except _Problem as problem:
        raise _state_error(problem, path, _usable_backup(path, migrations)) from None


def _load(path: Path, migrations: Mapping[int, Migration]) -> Release:
    root, data = _parse(_read_text(path))
    try:
        return _release_from(data, root, migrations)
    except RecursionError:  # outputs nested thousands of levels deep, by hand
        raise _Problem("state.invalid_yaml", line="?", column="?", problem=_TOO_DEEP) from None


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise _Problem("state.unreadable", reason=error.strerror or str(error)) from None
    try:
        # utf-8-sig: an editor on Windows may have added a byte order mark.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        reason = f"not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})"
        raise _Problem("state.unreadable", reason=reason) from None


def _parse(text: str) -> tuple[Node, Any]:
    """Compose the node tree (for line numbers) and build the data from that same tree."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise _Problem("state.empty")
        _refuse_aliases(root)
        return root, loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise _Problem(
            "state.invalid_yaml",
            line=mark.line + 1 if mark else "?",
            column=mark.column + 1 if mark else "?",
            problem=error.problem or error.context or "",
        ) from None
    except yaml.reader.ReaderError as error:
        raise _forbidden_character(text, error) from None
    except yaml.YAMLError as error:
        raise _Problem("state.invalid_yaml", line="?", column="?", problem=str(error)) from None
    except RecursionError:
        raise _Problem("state.invalid_yaml", line="?", column="?", problem=_TOO_DEEP) from None
    finally:
        loader.dispose()


_TOO_DEEP = "nested too deeply"


def _forbidden_character(text: str, error: yaml.reader.ReaderError) -> _Problem:
    """A character YAML forbids (NUL, most control characters), located by its offset."""
    before = text[: error.position]
    code = ord(error.character) if isinstance(error.character, str) else error.character
    return _Problem(
        "state.invalid_yaml",
        line=before.count("\n") + 1,
        column=len(before) - before.rfind("\n"),
        problem=f"character #x{code:04x} is not allowed",
    )


def _refuse_aliases(root: Node) -> None:
    """The wizard never writes anchors (`&`) and aliases (`*`). Refusing them keeps a hand-made
    one from building a self-referencing value, or an exponential one, out of a small file."""
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            raise _Problem(
                "state.invalid_yaml",
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
                problem="anchors and aliases (& and *) are not supported",
            )
        seen.add(id(node))
        if isinstance(node, MappingNode):
            pending.extend(part for pair in node.value for part in pair)
        elif isinstance(node, SequenceNode):
            pending.extend(node.value)


def _usable_backup(path: Path, migrations: Mapping[int, Migration]) -> Path | None:
    """The backup, when there is one worth offering: it exists and loads without a problem."""
    backup = backup_path(path)
    try:
        _load(backup, migrations)
    except _Problem:
        return None
    return backup


def _state_error(problem: _Problem, path: Path, backup: Path | None) -> StateFileError:
    return StateFileError(
        problem.key, path=path, backup=backup, folder=_folder(path), **problem.params
    )


def _folder(path: Path) -> str:
    """The folder, quoted for a shell, as messages suggest `hdh-wizard restore-backup DIR`."""
    return shlex.quote(str(path.parent))


# --- writing the file ------------------------------------------------------------------------


def save_release(release: Release, path: Path) -> None:
    """Write `release` to `path` atomically, keeping the previous version as the backup.

    At every instant `path` holds either the old or the new complete file: the new text goes to
    a temporary file in the same folder, synced, then renamed over `path`. Raises ValueError
    (nothing written) for content that must not be saved, `StateFileError` (`state.save_failed`)
    when the disk refuses, `LinkedPathError` when the file or its backup is a symbolic link; the
    old file and backup are then untouched.
    """
    payload = dump_release(release).encode("utf-8")
    try:
        # One helper for every atomic file of a project; it refuses a state file or backup
        # that is a symbolic link (`state.linked_path`), so a planted link changes nothing.
        write_atomically(path, payload, backup=backup_path(path))
    except OSError as error:
        raise StateFileError(
            "state.save_failed", path=path, reason=_os_reason(error), folder=_folder(path)
        ) from None


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _os_reason(error: OSError) -> str:
    return error.strerror or str(error)


def remove_leftover_temp_files(path: Path) -> list[Path]:
    """Delete the temporary files that interrupted saves (a crash, a kill) left beside `path`.

    Call it only while holding the project's lock: another wizard's save in progress would
    look the same. Returns the files removed.
    """
    own = re.compile(
        rf"^\.{re.escape(path.name)}(?:{re.escape(BACKUP_SUFFIX)})?\.\d+\.[0-9a-f]{{8}}\.tmp$"
    )
    try:
        leftovers = [p for p in path.parent.iterdir() if own.match(p.name) and p.is_file()]
    except OSError:
        return []
    for leftover in leftovers:
        _remove_quietly(leftover)
    return leftovers


# --- repairing -------------------------------------------------------------------------------


def restore_backup(
    path: Path,
    *,
    now: datetime | None = None,
    migrations: Mapping[int, Migration] = MIGRATIONS,
) -> Path | None:
    """Put the backup back in place of the state file at `path`, losing nothing.

    The current file (or whatever stands at `path`, even a folder) is kept as
    `hdh-release.yaml.broken-<UTC time>`, whose path is returned; None when there was nothing
    at `path`. The backup itself stays. Raises `StateFileError`: `state.no_backup`,
    `state.backup_unusable` when the backup does not load either, `state.restore_failed`.
    """
    backup = backup_path(path)
    if not backup.is_file():
        raise StateFileError("state.no_backup", path=path, backup=None, folder=_folder(path))
    try:
        _load(backup, migrations)
    except _Problem:
        raise StateFileError(
            "state.backup_unusable", path=path, backup=None, folder=_folder(path)
        ) from None
    try:
        return _put_back(path, backup, now or datetime.now(UTC))
    except OSError as error:
        raise StateFileError(
            "state.restore_failed", path=path, reason=_os_reason(error), folder=_folder(path)
        ) from None


def _put_back(path: Path, backup: Path, now: datetime) -> Path | None:
    check_not_linked(backup)  # its content is read: never a file outside the project
    temp = write_temporary(path, backup.read_bytes())
    try:
        kept = _keep_aside(path, now)
        replace_atomically(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise
    return kept


def _keep_aside(path: Path, now: datetime) -> Path | None:
    """Keep what stands at `path` under a `.broken-<time>` name; None if nothing is there."""
    if not os.path.lexists(path):
        return None
    kept = next(p for p in _broken_names(path, now) if not os.path.lexists(p))
    if path.is_symlink() or path.is_dir():
        # A folder cannot be replaced by a file, and a link is kept as the link itself (a
        # hard link would name the file it points at, maybe outside the project): move it away.
        os.rename(path, kept)
        return kept
    try:
        # A second name for the same file: `path` never disappears, even for an instant.
        os.link(path, kept)
    except OSError:  # filesystems without hard links
        os.rename(path, kept)
    return kept


def _broken_names(path: Path, now: datetime) -> Iterator[Path]:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = path.with_name(f"{path.name}{BROKEN_INFIX}{stamp}")
    yield base
    counter = 2
    while True:  # two repairs in the same second
        yield base.with_name(f"{base.name}-{counter}")
        counter += 1
