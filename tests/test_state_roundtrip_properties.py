"""Property: any release the model can hold survives save → load exactly."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hdh_wizard.core.enums import Environment, Role, Route, StepStatus
from hdh_wizard.core.release import (
    AuditAction,
    AuditEntry,
    DataFile,
    Person,
    Release,
    StepRecord,
    Target,
)
from hdh_wizard.core.state_file import (
    STATE_FILE_NAME,
    dump_release,
    load_release,
    looks_like_secret,
    save_release,
)
from hdh_wizard.core.steps import StepId

# Texts that YAML could mistake for something else, or that need quoting or escaping.
TRICKY_TEXTS = [
    "",
    " ",
    "\n",
    "\n\n",
    "ligne 1\nligne 2",
    "fin de ligne \n",
    "  indenté\nsuite",
    "\ttabulé",
    "a\r\nb",
    "yes",
    "no",
    "on",
    "null",
    "~",
    "true",
    "123",
    "0o17",
    "1e3",
    ".inf",
    "2026-01-31",
    "2026-01-31T09:00:00+00:00",
    "# pas un commentaire",
    "- pas une liste",
    "clé: valeur",
    "{a: 1}",
    "[1, 2]",
    "'apostrophe'",
    '"guillemets"',
    "Élodie, « données » — cohorte № 2",
    "\u2028séparateur",
    "\x85NEL",
    "\ufeffBOM",
    "emoji 🩺",
    "!tag",
    "&ancre *alias",
    "%directive",
    "@arobase",
    "`backtick`",
    "---",
    "...",
]

texts = st.one_of(st.sampled_from(TRICKY_TEXTS), st.text(max_size=40))
keys = texts.filter(lambda key: not looks_like_secret(key))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    texts,
)
outputs_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=12,
)
timezones = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))]
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=timezones
)
people = st.builds(Person, name=texts, role=st.sampled_from(Role))
records = st.builds(
    StepRecord,
    status=st.sampled_from(StepStatus),
    outputs=st.dictionaries(keys, outputs_values, max_size=5),
    reason=texts,
    updated_at=st.none() | moments,
    updated_by=st.none() | people,
)
audit_entries = st.builds(
    AuditEntry,
    at=moments,
    actor=people,
    action=st.sampled_from(AuditAction),
    step=st.none() | st.sampled_from(StepId),
    detail=texts,
)
data_files = st.builds(
    DataFile,
    path=texts,
    size=st.integers(min_value=0, max_value=2**63),
    mtime_ns=st.integers(min_value=-(2**63), max_value=2**63),
    fingerprint=texts,
)
releases = st.builds(
    Release,
    name=texts,
    created_at=moments,
    actor=people,
    target=st.builds(Target, environment=st.sampled_from(Environment), url=texts),
    files=st.lists(data_files, max_size=4).map(tuple),
    steps=st.dictionaries(st.sampled_from(StepId), records),
    audit=st.lists(audit_entries, max_size=6).map(tuple),
    measured_bytes=st.none() | st.integers(min_value=0, max_value=2**63),
    route_preview=st.sampled_from(Route),
)


def as_loaded(release: Release) -> Release:
    """Steps never touched are not loaded back: `release.record()` gives them all the same."""
    return replace(release, steps={k: v for k, v in release.steps.items() if v != StepRecord()})


@settings(max_examples=150, deadline=None)
@given(release=releases)
def test_any_release_survives_save_and_load_exactly(release: Release) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / STATE_FILE_NAME
        save_release(release, path)

        assert load_release(path) == as_loaded(release)


@settings(max_examples=50, deadline=None)
@given(release=releases)
def test_saving_a_loaded_release_writes_the_same_text(release: Release) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / STATE_FILE_NAME
        save_release(release, path)
        text = path.read_text(encoding="utf-8")

        assert dump_release(load_release(path)) == text


@settings(max_examples=200, deadline=None)
@given(value=outputs_values)
def test_any_output_value_comes_back_with_its_types(value: Any) -> None:
    release = Release(
        name="x",
        created_at=datetime(2026, 1, 31, tzinfo=UTC),
        actor=Person("a", Role.PARTNER),
        steps={StepId.CONTRACT: StepRecord(StepStatus.DONE, {"value": value})},
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / STATE_FILE_NAME
        save_release(release, path)

        loaded = load_release(path).record(StepId.CONTRACT).outputs["value"]

    assert loaded == value
    assert same_types(loaded, value)


def same_types(a: Any, b: Any) -> bool:
    """`1 == 1.0 == True` in Python: check that an int stays an int, a bool a bool."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return all(same_types(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return all(same_types(a[k], b[k]) for k in a)
    return True
