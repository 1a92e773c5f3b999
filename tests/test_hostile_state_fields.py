"""A hand-edited `hdh-release.yaml` with a hostile value in any field never crashes a command
nor the TUI: the file is refused at load, naming the field and its line, or it is used as is.

Every field is reached by walking a realistic state file (the shared sample release, plus the
outputs route 2 records for the transfer), so a field added to the schema is covered too.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hdh_wizard.cli.main import main
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import HostedObject, TransferRecord
from hdh_wizard.core.release import Release, StepRecord
from hdh_wizard.core.state_file import (
    NAME_MAX,
    OUTPUT_DEPTH_MAX,
    OUTPUT_VALUES_MAX,
    STATE_FILE_NAME,
    dump_release,
    load_release,
)
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import StateFileError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.i18n.formatting import format_datetime
from hdh_wizard.ui.app import HdhWizardApp
from hdh_wizard.ui.screens.identity import IdentityDialog
from hdh_wizard.ui.screens.state_error import StateErrorScreen
from tests.conftest import STAFF, build_sample_release
from tests.tui_helpers import until

Path_ = tuple[str | int, ...]  # a place in the document: mapping keys and list indexes

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
CRASH = 3  # the exit code of an unexpected error


# --- a realistic document, and every place in it ---------------------------------------------


def realistic_release() -> Release:
    """The shared sample, with what the transfer of route 2 records (storage details, a hosted
    object, an upload under way), so that the transfer's readers meet hostile values too."""
    release = build_sample_release()
    transfer = TransferRecord(
        storage={
            "endpoint_url": "http://127.0.0.1:9",
            "region": "us-east-1",
            "bucket": "hdh-open-data",
            "prefix": "melanome",
            "key_id": "AKIAEXAMPLE",
            "public_base_url": "",
        },
        objects=(
            HostedObject(
                "donnees/patients.csv",
                "melanome/donnees/patients.csv",
                1_800_000_000,
                "ab" * 32,
                "http://127.0.0.1:9/hdh-open-data/melanome/donnees/patients.csv",
                mtime_ns=1_767_171_600_000_000_000,
                verified_at="2026-02-01T10:00:00+00:00",
            ),
        ),
        uploads={
            "donnees/images/IRM 001.tiff": {
                "bucket": "hdh-open-data",
                "key": "melanome/donnees/images/IRM 001.tiff",
                "upload_id": "u-1",
                "size": 900_000_000,
                "mtime_ns": 1_767_171_700_123_456_789,
                "part_size": 67_108_864,
                "sha256": "",
                "parts": [[1, "etag-1", 67_108_864]],
                "checksum_algorithm": "",
                "created_at": 1_767_171_800.5,
                "updated_at": 1_767_171_900.25,
            }
        },
        done_by=STAFF.name,
    )
    record = StepRecord(
        StepStatus.IN_PROGRESS,
        transfer.to_outputs(),
        updated_at=datetime(2026, 2, 1, 10, 0, tzinfo=UTC),
        updated_by=STAFF,
    )
    return replace(release, steps={**release.steps, StepId.SHARE_WITH_HDH: record})


BASE_TEXT = dump_release(realistic_release())
BASE: dict[str, Any] = yaml.safe_load(BASE_TEXT)


def places(value: Any, where: Path_ = ()) -> Iterator[Path_]:
    """Every place below `value`, containers before what they hold."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*where, key)
            yield from places(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*where, index)
            yield from places(item, (*where, index))


PLACES = list(places(BASE))
# The steps of the guide all appear in the file; outputs are free data under them.
OUTPUTS = [p for p in PLACES if len(p) == 3 and p[0] == "steps" and p[2] == "outputs"]


def dotted(where: Path_) -> str:
    """A place as the messages name it: `files[1].path`, list entries counted from 1."""
    text = ""
    for part in where:
        text += f"[{part + 1}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def with_value(where: Path_, value: Any) -> dict[str, Any]:
    document = yaml.safe_load(BASE_TEXT)  # a fresh copy
    target = document
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = value
    return document


def with_key(where: Path_, key: Any, value: Any) -> dict[str, Any]:
    document = yaml.safe_load(BASE_TEXT)
    target = document
    for part in where:
        target = target[part]
    target[key] = value
    return document


class _NoAliasDumper(yaml.CSafeDumper):
    """A value used twice (the same `[]` drawn twice) is written twice, not as an alias: the
    loader refuses aliases as a whole-file problem, which would hide the value tried."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(
        document,
        Dumper=_NoAliasDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=10**9,
    )


# --- hostile values --------------------------------------------------------------------------


def nested(depth: int, *, mapping: bool = False) -> Any:
    value: Any = "fond"
    for _ in range(depth):
        value = {"n": value} if mapping else [value]
    return value


HOSTILE_TEXTS = [
    "",
    " ",
    "\x00",
    "donnees/pat\x00ients.csv",
    "\x1b[2J\x1b[31mrouge",
    "\x07",
    "a\rb",
    "ligne 1\nligne 2",
    "\t",
    "\x7f",
    "\x85",
    "\x9b31m",
    "\u202etxt.exe",
    "\ufeff",
    "\u2028",
    "\u200b",
    "e\u0301",
    "🩺" * 10,
    "../../../etc/passwd",
    "donnees/../../dehors.csv",
    "/",
    ".",
    "..",
    "./",
    "C:\\Windows",
    "~",
    "${HOME}",
    "%s%n",
    "{field} {0}",
    "[red]balise[/red]",
    "[/]",
    "[bold",
    "x" * (NAME_MAX + 1),
    "é" * 5_000,
    "y" * 1_200_000,
]
HOSTILE_DATES = [
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999+00:00",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59+00:00",
    "2201-01-01T00:00:00+00:00",
    "2026-01-31T09:00:00",
    "2026-02-30T00:00:00+00:00",
    "2026-01-31T09:00:00+23:59",
    "2026-01-31",
    "2026-01-31T09:00:00+00:00" + "0" * 100,
]
HOSTILE_NUMBERS = [
    -1,
    0,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    2**200,
    -(2**200),
    1.5,
    -0.0,
    1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
]
HOSTILE_OTHERS = [
    None,
    True,
    False,
    [],
    {},
    ["a", 1],
    {"a": 1},
    {1: "clé entière"},
    nested(OUTPUT_DEPTH_MAX + 1),
    nested(200),
    nested(OUTPUT_DEPTH_MAX + 1, mapping=True),
]

timezones = st.sampled_from(
    [UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=14)), timezone.min]
)
plain_texts = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)),  # YAML cannot hold a lone surrogate
    max_size=30,
)
hostile_scalars = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    st.sampled_from(HOSTILE_DATES),
    st.sampled_from(HOSTILE_NUMBERS),
    st.sampled_from(HOSTILE_OTHERS),
    plain_texts,
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.datetimes(timezones=timezones).map(datetime.isoformat),
)
hostile_values = st.recursive(
    hostile_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(plain_texts, children, max_size=3)
    ),
    max_leaves=6,
)


# --- running the commands and the TUI --------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No keyring, no network, no crash report in the real home, French messages."""
    for name in ("HDH_WIZARD_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "HDH_WIZARD_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("HDH_WIZARD_STORAGE_SECRET", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "home" / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / "config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("HDH_WIZARD_API_URL", "http://127.0.0.1:9")  # unroutable: refused at once


class Sandbox:
    """A project folder holding `text` as its state file, beside a file nothing may touch."""

    def __init__(self, text: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hdh-hostile-"))
        self.project = self.root / "projet"
        (self.project / "donnees" / "images").mkdir(parents=True)
        (self.project / "donnees" / "patients.csv").write_text("id,age\n1,40\n", encoding="utf-8")
        (self.project / "donnees" / "images" / "IRM 001.tiff").write_bytes(b"II*\x00")
        (self.project / STATE_FILE_NAME).write_text(text, encoding="utf-8")
        self.sibling = self.root / "voisin.txt"
        self.sibling.write_text("ne pas toucher\n", encoding="utf-8")

    def outside(self) -> dict[str, tuple[int, int, bytes]]:
        """What lies beside the project folder: names, sizes, times and contents."""
        found: dict[str, tuple[int, int, bytes]] = {}
        for path in self.root.iterdir():
            if path != self.project:
                st_ = path.stat()
                found[path.name] = (st_.st_size, st_.st_mtime_ns, path.read_bytes())
        return found

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def load_problem(path: Path) -> StateFileError | None:
    try:
        load_release(path)
    except StateFileError as error:
        return error
    return None


def run_cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return code, out + err


COMMANDS = (["status"], ["status", "--json"], ["publish"], ["transfer"])


def check_commands(
    capsys: pytest.CaptureFixture[str], box: Sandbox, problem: StateFileError | None
) -> None:
    before = box.outside()
    for command in COMMANDS:
        code, output = run_cli(capsys, [*command, str(box.project)])
        assert code != CRASH and code in (0, 1, 2), (command, code, output[-2000:])
        assert "Traceback" not in output, (command, output[-2000:])
        if problem is not None:
            # Refused at load: exit 1, and the message is the loader's, naming the field.
            assert code == 1, (command, output[-2000:])
            assert problem.message(load_catalogue(Lang.FR)) in output, (command, output[-2000:])
    assert box.outside() == before


async def open_tui(box: Sandbox) -> tuple[type, str]:
    """The TUI's first screen on the project: its class, and its text when it is an error."""
    app = HdhWizardApp(box.project, load_catalogue(Lang.FR), clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        text = ""
        if isinstance(screen, StateErrorScreen):
            text = str(screen.query_one("#state-error-message").render())
        return type(screen), text


def check_tui(box: Sandbox, problem: StateFileError | None) -> None:
    before = box.outside()
    kind, text = asyncio.run(open_tui(box))
    if problem is not None:
        assert kind is StateErrorScreen
        assert problem.params["field"] in text
    else:
        assert kind is not StateErrorScreen
    assert box.outside() == before


def names_the_place(problem: StateFileError, where: Path_) -> None:
    """The refusal names the place changed, one of its parents, or something inside it."""
    field = str(problem.params.get("field", ""))
    place = dotted(where)
    # A field checked against its sibling (the URL against the environment) is named instead.
    siblings = field.rsplit(".", 1)[0] == place.rsplit(".", 1)[0]
    assert field.startswith(place) or place.startswith(field) or siblings, (field, place)
    assert isinstance(problem.params.get("line"), int)
    for lang in Lang:
        message = problem.message(load_catalogue(lang))
        assert field in message
        # No placeholder left unfilled (the value shown may hold braces of its own).
        left = re.findall(r"\{[a-z_]+\}", message.replace(str(problem.params.get("value")), ""))
        assert not left, message


HYPOTHESIS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


# --- the cases seen on main ------------------------------------------------------------------


def files_path_with_nul() -> str:
    return to_yaml(with_value(("files", 0, "path"), "donnees/pat\x00ients.csv"))


def far_future_update() -> str:
    where = ("steps", "anonymity", "updated_at")
    return to_yaml(with_value(where, "9999-12-31T23:59:59-14:00"))


def huge_name() -> str:
    return to_yaml(with_value(("name",), "x" * 10_000_000))


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (files_path_with_nul, "files[1].path"),
        (far_future_update, "steps.anonymity.updated_at"),
        (huge_name, "name"),
    ],
    ids=["nul-in-path", "year-9999", "10-MB-name"],
)
def test_the_cases_seen_on_main_are_refused_at_load(
    make: Any, field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    box = Sandbox(make())
    try:
        problem = load_problem(box.project / STATE_FILE_NAME)
        assert problem is not None
        assert problem.params["field"] == field
        check_commands(capsys, box, problem)
        started = time.monotonic()
        check_tui(box, problem)
        assert time.monotonic() - started < 10  # not 25 s of a blank screen
    finally:
        box.remove()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=14))),
        datetime.max.replace(tzinfo=timezone.min),
        datetime.min.replace(tzinfo=timezone.max),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
    ],
)
@pytest.mark.parametrize("lang", list(Lang))
def test_format_datetime_never_raises_at_the_ends_of_the_calendar(
    moment: datetime, lang: Lang
) -> None:
    text = format_datetime(moment, lang)
    assert str(moment.year) in text or str(moment.year + 1) in text or str(moment.year - 1) in text


def test_the_realistic_file_loads_and_every_command_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    box = Sandbox(BASE_TEXT)
    try:
        assert load_problem(box.project / STATE_FILE_NAME) is None
        check_commands(capsys, box, None)
        check_tui(box, None)
    finally:
        box.remove()


def test_too_many_values_in_one_step_are_refused() -> None:
    flood = "[" + ",".join(["0"] * (OUTPUT_VALUES_MAX + 1)) + "]"
    text = BASE_TEXT.replace("      k_anonymity: 5\n", f"      k_anonymity: {flood}\n", 1)
    box = Sandbox(text)
    try:
        problem = load_problem(box.project / STATE_FILE_NAME)
        assert problem is not None
        assert problem.key == "state.too_many_values"
        assert problem.params["field"] == "steps.anonymity.outputs"
    finally:
        box.remove()


@pytest.mark.parametrize(
    ("where", "value", "key"),
    [
        (("name",), "x" * (NAME_MAX + 1), "state.value_too_long"),
        (("name",), "  ", "state.empty_value"),
        (("actor", "name"), "Élodie\x1b[2J", "state.forbidden_character"),
        (("files", 1, "path"), "../dehors.csv", "state.invalid_value"),
        (("files", 0, "size"), 2**63, "state.invalid_value"),
        (("files", 0, "mtime_ns"), -(2**63) - 1, "state.invalid_value"),
        (("created_at",), "2201-01-01T00:00:00+00:00", "state.date_out_of_range"),
        (("target", "url"), "ftp://www.data.gouv.fr", "state.invalid_value"),
        (("steps", "anonymity", "outputs", "risk"), float("nan"), "state.invalid_value"),
        (("steps", "anonymity", "outputs", "notes"), "a\x00b", "state.forbidden_character"),
        (("steps", "anonymity", "reason"), "\x1b]0;titre\x07", "state.forbidden_character"),
        (("audit", 0, "detail"), "z" * 1_000_001, "state.value_too_long"),
        (("steps", "contract", "outputs", "reference"), nested(40), "state.nested_too_deeply"),
    ],
)
def test_each_bound_names_its_field_and_line(where: Path_, value: Any, key: str) -> None:
    box = Sandbox(to_yaml(with_value(where, value)))
    try:
        problem = load_problem(box.project / STATE_FILE_NAME)
        assert problem is not None
        assert problem.key == key
        names_the_place(problem, where)
    finally:
        box.remove()


@pytest.mark.parametrize(
    "value",
    [
        "donnees/fichier\tavec\ttabulations.csv",  # legal in a POSIX name
        "/srv/données partagées/patients.csv",  # outside the project: stored absolute
        "Icon\r",  # what macOS writes in folders with a custom icon
    ],
)
def test_real_data_paths_still_load(value: str) -> None:
    box = Sandbox(to_yaml(with_value(("files", 0, "path"), value)))
    try:
        assert load_problem(box.project / STATE_FILE_NAME) is None
    finally:
        box.remove()


# --- the properties --------------------------------------------------------------------------


@settings(HYPOTHESIS, max_examples=200)
@given(where=st.sampled_from(PLACES), value=hostile_values)
@example(where=("files", 0, "path"), value="donnees/pat\x00ients.csv")
@example(where=("steps", "anonymity", "updated_at"), value="9999-12-31T23:59:59-14:00")
@example(where=("name",), value="y" * 1_200_000)
@example(where=("steps", "share_with_hdh", "outputs", "objects", 0, "path"), value="a\x00b")
@example(where=("steps", "share_with_hdh", "outputs", "objects", 0, "size"), value=2**200)
def test_a_hostile_value_anywhere_never_crashes_a_command(
    where: Path_, value: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    box = Sandbox(to_yaml(with_value(where, value)))
    try:
        problem = load_problem(box.project / STATE_FILE_NAME)
        if problem is not None:
            names_the_place(problem, where)
        check_commands(capsys, box, problem)
    finally:
        box.remove()


@settings(HYPOTHESIS, max_examples=60)
@given(where=st.sampled_from(OUTPUTS), key=plain_texts | st.sampled_from(HOSTILE_TEXTS))
def test_a_hostile_outputs_key_never_crashes_a_command(
    where: Path_, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    box = Sandbox(to_yaml(with_key(where, key, "valeur")))
    try:
        problem = load_problem(box.project / STATE_FILE_NAME)
        if problem is not None:
            assert str(problem.params["field"]).startswith(dotted(where))
        check_commands(capsys, box, problem)
    finally:
        box.remove()


@settings(HYPOTHESIS, max_examples=80)
@given(where=st.sampled_from(PLACES), value=hostile_values)
@example(where=("steps", "anonymity", "updated_at"), value="9999-12-31T23:59:59-14:00")
@example(where=("files", 0, "path"), value="[/]\x00")
@example(where=("name",), value="Cohorte [/] 2012")
@example(where=("actor", "name"), value="[bold")
@example(where=("files", 0, "path"), value="donnees/pat\x00ients.csv")
@example(where=("name",), value="x" * 10_000_000)
def test_a_hostile_value_anywhere_never_crashes_the_tui(where: Path_, value: Any) -> None:
    box = Sandbox(to_yaml(with_value(where, value)))
    try:
        check_tui(box, load_problem(box.project / STATE_FILE_NAME))
    finally:
        box.remove()


def test_every_schema_field_is_among_the_places() -> None:
    """The walk reaches every field the loader reads (a renamed field would hide from it)."""
    reached = {tuple(p for p in where if not isinstance(p, int)) for where in PLACES}
    for field in (
        ("name",),
        ("created_at",),
        ("actor", "name"),
        ("actor", "role"),
        ("target", "environment"),
        ("target", "url"),
        ("route_preview",),
        ("measured_bytes",),
        ("files", "path"),
        ("files", "size"),
        ("files", "mtime_ns"),
        ("files", "fingerprint"),
        ("steps", "anonymity", "status"),
        ("steps", "anonymity", "reason"),
        ("steps", "anonymity", "outputs"),
        ("steps", "anonymity", "updated_at"),
        ("steps", "anonymity", "updated_by", "name"),
        ("steps", "anonymity", "updated_by", "role"),
        ("audit", "at"),
        ("audit", "actor"),
        ("audit", "role"),
        ("audit", "action"),
        ("audit", "step"),
        ("audit", "detail"),
        ("schema_version",),
    ):
        assert field in reached, field
    assert {where[1] for where in OUTPUTS} == {step.value for step in StepId}


# --- text that looks like Textual markup is shown as it is ----------------------------------


def test_a_refused_value_that_looks_like_markup_shows_the_error_screen() -> None:
    box = Sandbox(to_yaml(with_value(("files", 0, "path"), "[/]\x00")))
    try:
        check_tui(box, load_problem(box.project / STATE_FILE_NAME))
    finally:
        box.remove()


def test_a_name_that_looks_like_markup_opens_the_checklist() -> None:
    box = Sandbox(to_yaml(with_value(("name",), "Cohorte [/] 2012")))
    try:
        check_tui(box, None)
    finally:
        box.remove()


async def banner_text(box: Sandbox) -> str:
    app = HdhWizardApp(box.project, load_catalogue(Lang.FR), clock=lambda: NOW)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        if isinstance(app.screen, IdentityDialog):  # asked on resume: the last actor kept
            await pilot.press("enter")
            await until(pilot, lambda: not isinstance(app.screen, IdentityDialog))
        return str(app.screen.query_one("#banner-release").render())


@pytest.mark.parametrize("name", ["Cohorte [/] 2012", "[bold]Cohorte[/bold]", "[red", "a\\[b]"])
def test_names_that_look_like_markup_are_shown_as_typed(name: str) -> None:
    document = with_value(("name",), name)
    document["actor"]["name"] = f"Élodie [{name}]"
    box = Sandbox(to_yaml(document))
    try:
        text = asyncio.run(banner_text(box))
    finally:
        box.remove()
    assert name in text
    assert f"Élodie [{name}]" in text
