"""Properties: any release a real project can hold survives save → load exactly; any other is
refused by the save, naming the field, with nothing written."""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hdh_wizard.core.enums import ENVIRONMENT_URLS, Environment, Role, Route, StepStatus
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
    UnsavableValueError,
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

# What a real release may hold: the loader's rules (`core.state_file`), which the save applies
# too. Names are one line of printable text, never blank; free texts (details, outputs) hold
# anything but NUL, reasons anything but control characters other than tabs and line breaks;
# paths are normalised (no `..`); numbers fit in 64 bits; demo and production use their URL.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
INT64 = {"min_value": -(2**63), "max_value": 2**63 - 1}

no_nul = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
printable = st.characters(exclude_categories=("Cs", "Cc"))  # Cc: exactly U+0000-1F, 7F-9F

texts = st.one_of(
    st.sampled_from(TRICKY_TEXTS), st.text(alphabet=no_nul, max_size=40)
)  # details, outputs
keys = texts.filter(lambda key: not looks_like_secret(key))
names = st.one_of(
    st.sampled_from([t for t in TRICKY_TEXTS if t.strip() and not CONTROL.search(t)]),
    st.text(alphabet=printable, min_size=1, max_size=40),
).filter(lambda name: name.strip() != "")
reasons = st.one_of(
    st.sampled_from([t for t in TRICKY_TEXTS if not CONTROL_BUT_LINES.search(t)]),
    st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r")),
)
paths = st.one_of(
    st.sampled_from(
        [
            "donnees/patients.csv",
            "/srv/données partagées/patients.csv",
            "donnees/fichier\tavec\ttabulations.csv",
            "Icon\r",
            "images/IRM 001.tiff",
            "a/./b",
            "/",
            "-",
            "...",
            ".cache",
        ]
    ),
    st.text(alphabet=no_nul, min_size=1, max_size=40),
).filter(
    lambda path: (
        path.strip() != ""
        and ".." not in path.split("/")
        and PurePosixPath(path) != PurePosixPath(".")
    )
)
fingerprints = st.text(alphabet=printable, max_size=80)
urls = st.one_of(
    st.sampled_from(
        [
            "https://recette.data.gouv.fr",
            "http://127.0.0.1:7000",
            "https://[::1]:8443/api/1/",
            "http://localhost",
            "https://exemple.fr/chemin?q=1&r=é#fragment",
            "https://données.exemple.fr/",
        ]
    ),
    st.builds(
        "{}://{}{}/{}".format,
        st.sampled_from(["https", "http", "HTTPS"]),
        st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True),
        st.none().map(lambda _: "") | st.integers(0, 65535).map(lambda port: f":{port}"),
        st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc", "Zs")), max_size=20),
    ),
)
targets = st.one_of(
    st.builds(Target, st.just(Environment.CUSTOM), urls),
    st.sampled_from([Environment.DEMO, Environment.PRODUCTION]).flatmap(
        lambda env: st.builds(
            Target,
            st.just(env),
            st.sampled_from(
                [
                    ENVIRONMENT_URLS[env],
                    ENVIRONMENT_URLS[env] + "/",
                    ENVIRONMENT_URLS[env].upper(),
                ]
            ),
        )
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(**INT64),
    st.floats(allow_nan=False, allow_infinity=False),
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
people = st.builds(Person, name=names, role=st.sampled_from(Role))
WITH_REASON = {StepStatus.SKIPPED, StepStatus.BLOCKED, StepStatus.STALE}
records = st.sampled_from(StepStatus).flatmap(
    lambda status: st.builds(
        StepRecord,
        status=st.just(status),
        outputs=st.dictionaries(keys, outputs_values, max_size=5),
        # The workflow clears the reason when a step leaves these statuses.
        reason=reasons if status in WITH_REASON else st.just(""),
        updated_at=st.none() | moments,
        updated_by=st.none() | people,
    )
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
    path=paths,
    size=st.integers(min_value=0, max_value=2**63 - 1),
    mtime_ns=st.integers(**INT64),
    fingerprint=fingerprints,
)
releases = st.builds(
    Release,
    name=names,
    created_at=moments,
    actor=people,
    target=targets,
    files=st.lists(data_files, max_size=4).map(tuple),
    steps=st.dictionaries(st.sampled_from(StepId), records),
    audit=st.lists(audit_entries, max_size=6).map(tuple),
    measured_bytes=st.none() | st.integers(min_value=0, max_value=2**63 - 1),
    route_preview=st.sampled_from(Route),
)

# Anything the model's types allow, values the loader refuses included: the save must refuse
# those, so that no state file is ever written that the wizard cannot read back.
any_texts = st.one_of(st.sampled_from(TRICKY_TEXTS), st.text(max_size=40))
any_people = st.builds(Person, name=any_texts, role=st.sampled_from(Role))
any_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    any_texts,
)
any_outputs = st.dictionaries(
    any_texts.filter(lambda key: not looks_like_secret(key)),
    st.recursive(
        any_scalars,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children),
        max_leaves=6,
    ),
    max_size=3,
)
any_datetimes = st.datetimes(timezones=timezones)  # years 1 to 9999


@st.composite
def any_releases(draw: st.DrawFn) -> Release:
    """A real release with one field, or one entry, set to anything its type allows."""
    release = draw(releases)
    changed = draw(
        st.sampled_from(["name", "created_at", "actor", "target", "files", "audit", "steps"])
    )
    if changed == "name":
        return replace(release, name=draw(any_texts))
    if changed == "created_at":
        return replace(release, created_at=draw(any_datetimes))
    if changed == "actor":
        return replace(release, actor=draw(any_people))
    if changed == "target":
        environment = draw(st.sampled_from(Environment))
        return replace(release, target=Target(environment, draw(any_texts | urls)))
    if changed == "files":
        data_file = DataFile(
            path=draw(any_texts),
            size=draw(st.integers(min_value=-1, max_value=2**64)),
            mtime_ns=draw(st.integers(min_value=-(2**64), max_value=2**64)),
            fingerprint=draw(any_texts),
        )
        return replace(release, files=(*release.files, data_file))
    if changed == "audit":
        entry = AuditEntry(
            at=draw(any_datetimes),
            actor=draw(any_people),
            action=draw(st.sampled_from(AuditAction)),
            detail=draw(any_texts),
        )
        return replace(release, audit=(*release.audit, entry))
    record = StepRecord(
        status=draw(st.sampled_from(StepStatus)),
        outputs=draw(any_outputs),
        reason=draw(any_texts),
        updated_at=draw(st.none() | any_datetimes),
        updated_by=draw(st.none() | any_people),
    )
    return replace(release, steps={**release.steps, draw(st.sampled_from(StepId)): record})


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


@settings(max_examples=200, deadline=None)
@given(release=any_releases())
def test_the_save_refuses_what_the_load_would_refuse(release: Release) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / STATE_FILE_NAME
        try:
            save_release(release, path)
        except UnsavableValueError as error:
            assert not path.exists()
            assert error.params["field"]
            return

        assert load_release(path) == as_loaded(release)
