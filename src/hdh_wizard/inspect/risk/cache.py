"""The anonymity step's last scan and measures, kept beside the project so that reopening a
measured step on unchanged files shows its figures at once (a 1.2 GB table takes minutes).

The cache lives in the project's own folder `.hdh-wizard/` (never inspected, never published),
as JSON: the figures, the column names and roles, the masked examples the report already shows,
never a value in clear. Each source file is recorded with its size, mtime and fast fingerprint
(`inspect.fingerprint`); the cache is used only when every file is as recorded, the same files
in the same order, by the same version of the wizard. Any doubt (a file changed, added or gone, a
broken or older cache file) means scanning again: the cache only ever saves time.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from hdh_wizard import __version__
from hdh_wizard.core.safe_files import check_not_linked, write_atomically
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.fingerprint import fast_fingerprint
from hdh_wizard.inspect.inspection import InventoryEntry
from hdh_wizard.inspect.risk.analysis import Choice, TableRisk, TableScan
from hdh_wizard.inspect.risk.release import Scanned, Sources, TableRef
from hdh_wizard.inspect.risk.slide_privacy import ImagePrivacyReport

CACHE_FOLDER = ".hdh-wizard"  # skipped by the inspection (`inspection.SKIPPED_FOLDERS`)
CACHE_NAME = "anonymity-measures.json"
_VERSION = 2  # 2: a table scan carries its columns' facts


def cache_path(project: Path) -> Path:
    return project / CACHE_FOLDER / CACHE_NAME


# --- the source files' identity ----------------------------------------------------------------


def _file_record(entry: InventoryEntry, fingerprint: str | None = None) -> dict[str, Any]:
    return {
        "display": entry.display,
        "size": entry.size,
        "mtime_ns": entry.mtime_ns,
        "fingerprint": fingerprint or fast_fingerprint(entry.path),
    }


def _files(sources: Sources) -> list[InventoryEntry]:
    return [*sources.tables, *sources.slides]


def file_records(sources: Sources) -> list[dict[str, Any]]:
    """Each source file's size, mtime and fast fingerprint (reads three 1 MiB samples each).
    Raises OSError."""
    return [_file_record(e) for e in _files(sources)]


def _unchanged(recorded: object, sources: Sources) -> list[dict[str, Any]] | None:
    """The records of the files as they are now, if they are those recorded (a `stat` for each,
    and a fingerprint only for a file whose mtime moved); else None."""
    entries = _files(sources)
    if not isinstance(recorded, list) or len(recorded) != len(entries):
        return None
    current = []
    for entry, record in zip(entries, recorded, strict=True):
        if not isinstance(record, dict) or record.get("display") != entry.display:
            return None
        if record.get("size") != entry.size:
            return None
        fingerprint = record.get("fingerprint")
        if not isinstance(fingerprint, str):
            return None
        if record.get("mtime_ns") != entry.mtime_ns:
            try:
                if fast_fingerprint(entry.path) != fingerprint:
                    return None
            except OSError:
                return None
        current.append(_file_record(entry, fingerprint))
    return current


# --- saving and loading ------------------------------------------------------------------------


def save_scanned(project: Path, files: list[dict[str, Any]], scanned: Scanned) -> None:
    """Keep the scan and the measures made on `files` (their `file_records`, taken when the scan
    started reading). Best effort: a cache that cannot be written is no error."""
    try:
        data = {
            "version": _VERSION,
            "wizard": __version__,  # another version of the wizard may measure otherwise
            "files": files,
            "tables": [
                {"ref": _encode(ref), "scan": _encode(scan)} for ref, scan in scanned.tables
            ],
            "choices": {name: _encode(choice) for name, choice in scanned.choices.items()},
            "risks": {name: _encode(risk) for name, risk in scanned.risks.items()},
            "images": [_encode(image) for image in scanned.images],
            "failures": [
                {"key": e.key, "params": {k: _plain(v) for k, v in e.params.items()}}
                for e in scanned.failures
            ],
        }
        text = json.dumps(data, ensure_ascii=False)
        target = cache_path(project)
        check_not_linked(target.parent, project=project)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Atomic, and never through a link planted in a shared project (`core.safe_files`).
        write_atomically(target, text.encode("utf-8"), project=project)
    except (OSError, TypeError, ValueError, HdhWizardError):
        return


def load_scanned(project: Path, sources: Sources) -> tuple[Scanned, list[dict[str, Any]]] | None:
    """The kept scan and measures with the files' records, if the files are unchanged since."""
    try:
        data = json.loads(cache_path(project).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return None
    if data.get("wizard") != __version__:
        return None
    files = _unchanged(data.get("files"), sources)
    if files is None:
        return None
    paths = {e.display: e.path for e in _files(sources)}
    try:
        tables = []
        for item in data["tables"]:
            ref = _decode(TableRef, {**item["ref"], "path": str(paths[item["ref"]["display"]])})
            tables.append((ref, _decode(TableScan, item["scan"])))
        choices = {str(k): _decode(Choice, v) for k, v in data["choices"].items()}
        risks = {str(k): _decode(TableRisk, v) for k, v in data["risks"].items()}
        images = tuple(_decode(ImagePrivacyReport, i) for i in data["images"])
        failures = tuple(
            HdhWizardError(str(f["key"]), **{str(k): v for k, v in f["params"].items()})
            for f in data["failures"]
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return Scanned(tuple(tables), images, failures, choices, risks), files


def _plain(value: object) -> object:
    """A message's parameter as JSON keeps it: counts stay numbers (plural forms read them)."""
    return value if isinstance(value, bool | int | float | str) else str(value)


# --- frozen dataclasses to JSON and back -------------------------------------------------------


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot keep {type(value).__name__}")


def _decode(kind: Any, data: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(kind)
        if data is None and type(None) in options:
            return None
        real = [o for o in options if o is not type(None)]
        return _decode(real[0], data)
    if origin is tuple:
        (item, *_) = typing.get_args(kind)
        if not isinstance(data, list):
            raise TypeError("a list was expected")
        return tuple(_decode(item, v) for v in data)
    if origin is dict:
        key, item = typing.get_args(kind)
        if not isinstance(data, dict):
            raise TypeError("a mapping was expected")
        return {_decode(key, k): _decode(item, v) for k, v in data.items()}
    if isinstance(kind, type) and is_dataclass(kind):
        if not isinstance(data, dict):
            raise TypeError("a mapping was expected")
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: _decode(hints[f.name], data[f.name]) for f in fields(kind)})
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    if kind is Path:
        return Path(str(data))
    if kind is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if kind in (int, str, bool) and type(data) is kind:
        return data
    raise TypeError(f"unexpected {type(data).__name__} for {kind}")
