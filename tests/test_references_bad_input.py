"""Route 2, step 7 under attack: hosted files from a hand-edited state, a server that fails or
times out mid-run, a page edited or deleted by hand, a revoked key, a partner trying to do
staff's part, a person leaving the screen mid-run. Against the real udata, with the fault proxy
in front of it where the network misbehaves.

What must hold every time: a clear message, never a traceback; nothing sent when the input is
unusable; after any failure, a re-run finishes with no duplicate and nothing lost; what was
added by hand on the page left alone; no secret in the output or the state.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hdh_wizard import project as projects
from hdh_wizard.cli.publish import run_publish
from hdh_wizard.core.enums import StepStatus
from hdh_wizard.core.hosting_records import (
    FileRole,
    HostedObject,
    ReferencesRecord,
    references_of,
)
from hdh_wizard.core.portal_records import dataset_of
from hdh_wizard.core.steps import StepId
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv import describe
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.services.datagouv.references import (
    SIZE_LIMIT,
    ReferenceAction,
    ReferenceEvent,
    ReferenceRun,
    ReferencesError,
    ReferencesOutcome,
    references_match,
    updated_fields,
)
from hdh_wizard.ui.steps.reference_urls import ReferenceUrlsStepScreen
from tests.portal_helpers import (
    BUCKET,
    DESCRIPTION,
    REFERENCES_SIZE,
    SPLIT,
    app_as,
    cells,
    hosted,
    hosted_release,
    keyed_portal,
    new_organization,
)
from tests.tui_helpers import ALICE, STAFF, status_text, until
from tests.udata_local.fault_proxy import FaultProxy
from tests.udata_local.server import OPEN_SCIENCE, PARTNER, UdataServer

FR = load_catalogue(Lang.FR)
RESOURCES = r"/datasets/[^/]+/resources/$"
ONE_RESOURCE = r"/datasets/[^/]+/resources/[^/]+/$"


# --- set-up ---


@pytest.fixture
def proxy(udata_server: UdataServer) -> Iterator[FaultProxy]:
    with FaultProxy(udata_server.url) as running:
        yield running


@pytest.fixture
def client(proxy: FaultProxy) -> Iterator[DataGouvClient]:
    """The partner's client, through the proxy; no real waits between retries."""
    with DataGouvClient(proxy.url, PARTNER.api_key, timeout=3.0, sleep=lambda _s: None) as c:
        yield c


@pytest.fixture
def direct(udata_server: UdataServer) -> Iterator[DataGouvClient]:
    """A second client, straight to udata: what a person does by hand on the page."""
    with DataGouvClient(udata_server.url, PARTNER.api_key) as c:
        yield c


@pytest.fixture
def dataset_id(direct: DataGouvClient, udata_server: UdataServer, proxy: FaultProxy) -> str:
    created = direct.create_dataset(
        {
            "title": f"Cohorte attaquée {uuid.uuid4().hex[:6]}",
            "description": DESCRIPTION,
            "organization": new_organization(udata_server),
            "license": "lov2",
            "frequency": "punctual",
            "private": True,
        }
    )
    proxy.clear()
    return str(created["id"])


class Saved:
    def __init__(self) -> None:
        self.records: list[ReferencesRecord] = []

    def __call__(self, record: ReferencesRecord) -> None:
        self.records.append(record)

    @property
    def last(self) -> ReferencesRecord | None:
        return self.records[-1] if self.records else None


def make_run(
    client: DataGouvClient,
    dataset_id: str,
    objects: tuple[HostedObject, ...],
    saved: Saved,
    on_event: Any = None,
    cancel: threading.Event | None = None,
) -> ReferenceRun:
    return ReferenceRun(
        client=client,
        site=client.base_url,
        dataset_id=dataset_id,
        objects=objects,
        save=saved,
        on_event=on_event or (lambda _e: None),
        cancel=cancel or threading.Event(),
    )


def reference(
    client: DataGouvClient,
    dataset_id: str,
    objects: tuple[HostedObject, ...],
    record: ReferencesRecord | None,
) -> tuple[ReferencesOutcome, Saved]:
    saved = Saved()
    return make_run(client, dataset_id, objects, saved).run(record), saved


def server_resources(direct: DataGouvClient, dataset_id: str) -> list[dict[str, Any]]:
    resources = direct.dataset(dataset_id)["resources"]
    assert isinstance(resources, list)
    return resources


def changes(proxy: FaultProxy) -> list[tuple[str, str]]:
    """The requests that changed a resource (POST, PUT, DELETE), as the proxy saw them."""
    return [
        (r.method, r.path)
        for r in proxy.log
        if r.method in ("POST", "PUT", "DELETE") and "/resources/" in r.path
    ]


def obj(path: str, **changed: Any) -> HostedObject:
    return replace(hosted(path, 1_000_000), **changed)


def assert_all_referenced_once(
    direct: DataGouvClient, dataset_id: str, objects: tuple[HostedObject, ...]
) -> None:
    """Each hosted file exactly once on the page, with its size and checksum."""
    remote = [r for r in server_resources(direct, dataset_id) if r.get("checksum")]
    assert sorted(r["url"] for r in remote) == sorted(o.url for o in objects)
    by_url = {r["url"]: r for r in remote}
    for hosted_file in objects:
        resource = by_url[hosted_file.url]
        assert resource["filesize"] == hosted_file.size
        assert resource["checksum"] == {"type": "sha256", "value": hosted_file.sha256.lower()}


# --- hostile hosted files, from a hand-edited state ---

SECRET_PASSWORD = "s3cr3t-p4ss"
SIGNATURE = "f00dfacecafe"

HOSTILE: dict[str, tuple[HostedObject, str]] = {
    "a URL with a space": (
        obj("publish/a.csv", url=f"{BUCKET}/publish/a b.csv"),
        "references.bad.url_malformed",
    ),
    "a javascript: URL": (
        obj("publish/a.csv", url="javascript:alert(1)"),
        "references.bad.url_scheme",
    ),
    "a file: URL": (obj("publish/a.csv", url="file:///etc/passwd"), "references.bad.url_scheme"),
    "an ftp URL": (
        obj("publish/a.csv", url="ftp://stockage.hdh.example.org/a.csv"),
        "references.bad.url_scheme",
    ),
    "a URL without host": (
        obj("publish/a.csv", url="https:///a.csv"),
        "references.bad.url_malformed",
    ),
    "a URL with a bad port": (
        obj("publish/a.csv", url="https://stockage.hdh.example.org:http/a.csv"),
        "references.bad.url_malformed",
    ),
    "a URL with a newline": (
        obj("publish/a.csv", url=f"{BUCKET}/a.csv\nhttps://evil.example.org"),
        "references.bad.url_malformed",
    ),
    "a URL with a password": (
        obj(
            "publish/a.csv",
            url=f"https://hdh:{SECRET_PASSWORD}@stockage.hdh.example.org/open-data/a.csv",
        ),
        "references.bad.url_credentials",
    ),
    "a signed, temporary URL": (
        obj(
            "publish/a.csv",
            url=f"{BUCKET}/a.csv?X-Amz-Credential=AKIA%2F20261129&X-Amz-Signature={SIGNATURE}",
        ),
        "references.bad.url_signed",
    ),
    "a URL with a right-to-left override": (
        obj("publish/a.csv", url=f"{BUCKET}/\u202evsc.exe"),
        "references.bad.url_malformed",
    ),
    "a SHA-256 too short": (obj("publish/a.csv", sha256="abc123"), "references.bad.sha256"),
    "a SHA-256 not hexadecimal": (obj("publish/a.csv", sha256="z" * 64), "references.bad.sha256"),
    "a size beyond 2^53": (obj("publish/a.csv", size=2**53 + 1), "references.bad.size"),
    "a size beyond 2^63": (obj("publish/a.csv", size=2**64), "references.bad.size"),
    "an empty file name": (obj("publish/ ", url=f"{BUCKET}/x.csv"), "references.bad.path"),
    "a name with a newline": (
        obj("publish/a\nb.csv", url=f"{BUCKET}/x.csv"),
        "references.bad.path",
    ),
    "a name with an escape sequence": (
        obj("publish/\x1b[2Jefface.csv", url=f"{BUCKET}/x.csv"),
        "references.bad.path",
    ),
    "a name with a right-to-left override": (
        obj("publish/\u202egpj.exe", url=f"{BUCKET}/x.csv"),
        "references.bad.path",
    ),
    "a path over 1024 characters": (
        obj("publish/" + "d/" * 520 + "a.csv", url=f"{BUCKET}/long.csv"),
        "references.bad.path",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_hosted_file_stops_the_run_before_anything_is_sent_and_is_named(
    case: str, client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    bad, key = HOSTILE[case]
    objects = (*SPLIT, bad)
    saved = Saved()

    with pytest.raises(ReferencesError) as raised:
        make_run(client, dataset_id, objects, saved).run(None)

    error = raised.value
    assert error.key == "references.error.bad_hosted"
    assert key in [k for k, _ in error.details], error.details
    text = error.message(FR) + "\n".join(FR.t(k, **p) for k, p in error.details)
    assert "rien n'a été envoyé" in text
    assert SECRET_PASSWORD not in text and SIGNATURE not in text  # never echoed
    shown = "".join(p["path"] for _, p in error.details)
    assert not any(c in shown for c in "\n\x1b\u202e")  # a path shown safely, on one line
    assert changes(proxy) == []  # not one resource made, even for the good files
    assert saved.records == []
    assert server_resources(direct, dataset_id) == []


def test_two_hosted_files_with_the_same_url_or_path_are_refused(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy
) -> None:
    twin_url = obj("publish/b.csv", url=SPLIT[0].url)
    twin_path = obj(SPLIT[1].path, url=f"{BUCKET}/autre.csv")
    with pytest.raises(ReferencesError) as raised:
        make_run(client, dataset_id, (*SPLIT, twin_url, twin_path), Saved()).run(None)
    keys = [(k, p["path"]) for k, p in raised.value.details]
    assert ("references.bad.same_url", "publish/b.csv") in keys
    assert ("references.bad.same_path", SPLIT[1].path) in keys
    assert len(keys) == len(set(keys))  # each said once
    assert changes(proxy) == []


def test_a_hostile_state_through_publish_prints_each_problem_and_sends_nothing(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = (
        *SPLIT,
        obj("publish/c.csv", url=f"https://hdh:{SECRET_PASSWORD}@stockage.hdh.example.org/c.csv"),
        obj("publish/d.csv", sha256="D" * 63),
    )
    hosted_release(tmp_path, udata_server, bad)

    code = run_publish(FR, tmp_path, yes=True, portal=keyed_portal(udata_server), actor=STAFF)

    assert code == 1
    captured = capsys.readouterr()
    err = captured.err
    assert "2 fichiers hébergés enregistrés de façon inutilisable" in err
    assert "  • publish/c.csv : l'URL contient un identifiant ou un mot de passe" in err
    assert "  • publish/d.csv : la somme SHA-256" in err
    assert "Traceback" not in err
    assert SECRET_PASSWORD not in captured.out + err
    release = projects.read_project(tmp_path)
    assert release.record(StepId.REFERENCE_URLS).status is not StepStatus.DONE
    assert references_of(release) is None
    dataset = dataset_of(release)
    assert dataset is not None  # the page (step 5) was made, with no file
    with DataGouvClient(udata_server.url, PARTNER.api_key) as direct:
        assert direct.dataset(dataset.dataset_id)["resources"] == []


def test_a_transfer_record_edited_badly_after_publication_reopens_nothing(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_release(tmp_path, udata_server)
    portal = keyed_portal(udata_server)
    assert run_publish(FR, tmp_path, yes=True, portal=portal, actor=STAFF) == 0
    # By hand, in the state file: one hosted file's URL replaced by a script.
    release = projects.read_project(tmp_path)
    transfer = release.record(StepId.SHARE_WITH_HDH)
    outputs = dict(transfer.outputs)
    outputs["objects"] = [dict(o) for o in outputs["objects"]]
    outputs["objects"][0]["url"] = "javascript:alert(1)"
    edited = replace(
        release, steps={**release.steps, StepId.SHARE_WITH_HDH: replace(transfer, outputs=outputs)}
    )
    projects.save(projects.Project(tmp_path, edited), edited)
    before = {step: edited.record(step).status for step in edited.steps}
    capsys.readouterr()

    assert run_publish(FR, tmp_path, yes=True, portal=portal, actor=STAFF) == 1

    err = capsys.readouterr().err
    assert "ne commence pas par https://" in err and "Traceback" not in err
    after = projects.read_project(tmp_path)
    assert {step: after.record(step).status for step in after.steps} == before
    assert after.record(StepId.PUBLICATION).status is StepStatus.DONE  # not made stale


# --- odd but valid hosted files: referenced, and a re-run sends nothing ---


def test_an_upper_case_sha256_is_published_lower_case_and_a_rerun_sends_nothing(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    upper = tuple(replace(o, sha256=o.sha256.upper()) for o in SPLIT)
    first, _ = reference(client, dataset_id, upper, None)
    assert first.verified, first.mismatches
    for resource in server_resources(direct, dataset_id):
        assert resource["checksum"]["value"] == resource["checksum"]["value"].lower()
        assert resource["checksum"]["value"] in resource["description"]
    sent = len(changes(proxy))

    again, saved = reference(client, dataset_id, upper, first.record)

    assert again.verified and again.count(ReferenceAction.KEEP) == 4
    assert len(changes(proxy)) == sent and saved.records == []


def test_sizes_zero_and_two_to_the_53_minus_one_persist_exactly(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    objects = (
        replace(hosted("docs/LISEZMOI.txt", 0, FileRole.DOCUMENTATION)),
        hosted("publish/enorme.csv", SIZE_LIMIT),
    )
    first, _ = reference(client, dataset_id, objects, None)
    assert first.verified, first.mismatches
    assert sorted(r["filesize"] for r in server_resources(direct, dataset_id)) == [0, SIZE_LIMIT]
    assert "0 o" in " ".join(r["description"] for r in server_resources(direct, dataset_id))
    sent = len(changes(proxy))
    again, _ = reference(client, dataset_id, objects, first.record)
    assert again.verified and len(changes(proxy)) == sent


def test_a_host_typed_in_capitals_is_referenced_and_stays_in_step(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    # udata refuses "Invalid TLD ORG": the host, the same in any case, is sent in lower case.
    shouted = tuple(
        replace(
            o,
            url=o.url.replace(
                "https://stockage.hdh.example.org", "HTTPS://Stockage.HDH.Example.ORG"
            ),
        )
        for o in SPLIT
    )
    first, _ = reference(client, dataset_id, shouted, None)
    assert first.verified, first.mismatches
    urls = sorted(r["url"] for r in server_resources(direct, dataset_id))
    assert urls == sorted(o.url for o in SPLIT)
    assert references_match(first.record, shouted, dataset_id)
    sent = len(changes(proxy))
    again, _ = reference(client, dataset_id, shouted, first.record)
    assert again.verified and len(changes(proxy)) == sent


NAMES = (
    "publish/Stade_é/données_ü.csv",  # accents, kept as they are
    "publish/مرحلة_٣.csv",  # right-to-left script, kept
    "publish/a__b__*c*_[lien](javascript:x)<img src=x onerror=alert(1)>.csv",  # Markdown, HTML
    "publish/../../etc/passwd.csv",  # `..`: only a name on the page
    "publish/`code`.csv",
    "publish/" + "n" * 600 + ".csv",  # a name longer than udata's title limit
)


def test_hostile_file_names_give_clean_titles_plain_descriptions_and_a_quiet_rerun(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    objects = tuple(
        HostedObject(
            name, f"k{i}", 1000 + i, hashlib.sha256(name.encode()).hexdigest(), f"{BUCKET}/f{i}.csv"
        )
        for i, name in enumerate(NAMES)
    )
    first, _ = reference(client, dataset_id, objects, None)
    assert first.verified, first.mismatches

    resources = server_resources(direct, dataset_id)
    titles = {r["url"]: r["title"] for r in resources}
    descriptions = {r["url"]: r["description"] for r in resources}
    for title in titles.values():
        assert title == title.strip() and 0 < len(title) <= 350
    assert titles[f"{BUCKET}/f0.csv"] == "données_ü.csv"
    assert titles[f"{BUCKET}/f1.csv"] == "مرحلة_٣.csv"
    assert titles[f"{BUCKET}/f3.csv"] == "passwd.csv"
    assert titles[f"{BUCKET}/f5.csv"] == "n" * 350  # cut to udata's limit, not refused
    # A name is shown as a name: a code span, never emphasis, a link or HTML.
    assert (
        "`a__b__*c*_[lien](javascript:x)<img src=x onerror=alert(1)>.csv`"
        in descriptions[f"{BUCKET}/f2.csv"]
    )
    assert "`` `code`.csv ``" in descriptions[f"{BUCKET}/f4.csv"]
    sent = len(changes(proxy))

    again, saved = reference(client, dataset_id, objects, first.record)

    assert again.verified and again.count(ReferenceAction.KEEP) == len(NAMES)
    assert len(changes(proxy)) == sent and saved.records == []


def test_files_without_an_extension_are_referenced_and_a_rerun_sends_nothing(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    odd = (
        obj("docs/LISEZMOI", url=f"{BUCKET}/LISEZMOI"),
        obj("publish/.csv", url=f"{BUCKET}/point.csv"),
    )
    first, _ = reference(client, dataset_id, odd, None)
    assert first.verified, first.mismatches
    assert sorted(r["title"] for r in server_resources(direct, dataset_id)) == [".csv", "LISEZMOI"]
    sent = len(changes(proxy))
    again, _ = reference(client, dataset_id, odd, first.record)
    assert again.count(ReferenceAction.KEEP) == 2 and len(changes(proxy)) == sent


def test_a_path_ending_with_a_space_gets_a_format_udata_keeps_and_a_quiet_rerun(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy
) -> None:
    # udata strips and lowers a format: compared as sent, the resource would be "changed"
    # on every run.
    odd = (obj("publish/Table.CSV ", url=f"{BUCKET}/table.csv"),)
    first, _ = reference(client, dataset_id, odd, None)
    assert first.verified
    sent = len(changes(proxy))
    again, _ = reference(client, dataset_id, odd, first.record)
    assert again.count(ReferenceAction.KEEP) == 1 and len(changes(proxy)) == sent


# --- a hand-edited references record -------------------------------------------------------------


def test_a_record_giving_two_files_the_same_resource_ends_with_one_resource_each(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    one, two = first.record.files[0], first.record.files[1]
    edited = replace(
        first.record,
        files=(one, replace(two, resource_id=one.resource_id), *first.record.files[2:]),
    )
    # The resource `two` had is now nobody's in the state: the wizard's own (its URL and
    # checksum say so), it is found again, never doubled nor shared.
    again, _ = reference(client, dataset_id, SPLIT, edited)
    assert again.verified, again.mismatches
    assert len({f.resource_id for f in again.record.files}) == 4
    assert_all_referenced_once(direct, dataset_id, SPLIT)
    sent = len(changes(proxy))
    third, _ = reference(client, dataset_id, SPLIT, again.record)
    assert third.count(ReferenceAction.KEEP) == 4 and len(changes(proxy)) == sent  # settled


def test_a_file_no_longer_hosted_never_takes_a_hosted_files_resource_with_it(
    client: DataGouvClient, dataset_id: str, direct: DataGouvClient
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    kept = first.record.files[0]
    ghost = replace(kept, path="publish/plus_heberge.csv", url=f"{BUCKET}/plus_heberge.csv")
    edited = replace(first.record, files=(*first.record.files, ghost))

    again, _ = reference(client, dataset_id, SPLIT, edited)

    assert again.verified, again.mismatches
    assert again.record.file(ghost.path) is None
    assert kept.resource_id in {r["id"] for r in server_resources(direct, dataset_id)}
    assert_all_referenced_once(direct, dataset_id, SPLIT)


def test_a_record_entry_the_state_cannot_read_is_recovered_without_duplicates(
    client: DataGouvClient, dataset_id: str, direct: DataGouvClient
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    outputs = first.record.to_outputs()
    outputs["files"][0]["size"] = "beaucoup"  # hand-edited: this entry no longer reads
    outputs["files"][1] = "n'importe quoi"
    damaged = ReferencesRecord.from_outputs(outputs)
    assert damaged is not None and len(damaged.files) == 2

    again, _ = reference(client, dataset_id, SPLIT, damaged)

    assert again.verified, again.mismatches
    assert again.count(ReferenceAction.CREATE) == 0  # found again by URL and checksum
    assert {f.resource_id for f in again.record.files} == {
        f.resource_id for f in first.record.files
    }
    assert_all_referenced_once(direct, dataset_id, SPLIT)


def test_a_record_path_with_an_escape_sequence_is_reported_without_it(
    client: DataGouvClient, dataset_id: str
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    ghost = replace(first.record.files[0], path="publish/\x1b[2J\u202eefface.csv")
    edited = replace(first.record, files=(*first.record.files, ghost))

    mismatches = make_run(client, dataset_id, SPLIT, Saved()).verify(edited)

    assert [m.key for m in mismatches] == ["references.mismatch.not_hosted"]
    text = FR.t(mismatches[0].key, path=mismatches[0].path)
    assert "\x1b" not in text and "\u202e" not in text
    assert "publish/\\x1b[2Jefface.csv" in text  # the escape shown, not sent to the terminal


# --- the server failing mid-run, then a re-run ---


def test_a_500_on_the_second_creation_stops_the_run_and_the_rerun_finishes_without_duplicates(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    saved = Saved()

    def fail_the_next(event: ReferenceEvent) -> None:
        if event.kind == "file_done" and len(saved.records) == 1:
            proxy.fail("POST", RESOURCES, 500, times=1)

    with pytest.raises(ApiError) as raised:
        make_run(client, dataset_id, SPLIT, saved, fail_the_next).run(None)

    assert raised.value.kind is ErrorKind.SERVER
    assert raised.value.attempts == 1  # a creation is never retried blindly
    assert describe(raised.value, FR)
    assert saved.last is not None and len(saved.last.files) == 1
    assert len(server_resources(direct, dataset_id)) == 1

    outcome, _ = reference(client, dataset_id, SPLIT, saved.last)

    assert outcome.verified, outcome.mismatches
    assert outcome.count(ReferenceAction.KEEP) == 1 and outcome.count(ReferenceAction.CREATE) == 3
    assert_all_referenced_once(direct, dataset_id, SPLIT)


def test_a_creation_whose_answer_is_lost_is_adopted_by_the_rerun(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    # udata makes the resource, the answer never comes back: nothing recorded.
    proxy.fail("POST", RESOURCES, 502, times=1, forward=True)
    saved = Saved()
    with pytest.raises(ApiError):
        make_run(client, dataset_id, SPLIT, saved).run(None)
    assert saved.records == []
    assert len(server_resources(direct, dataset_id)) == 1
    proxy.clear()

    outcome, _ = reference(client, dataset_id, SPLIT, saved.last)

    assert outcome.verified, outcome.mismatches
    assert outcome.count(ReferenceAction.CREATE) == 3 and outcome.count(ReferenceAction.KEEP) == 1
    assert outcome.duplicates_removed == ()
    assert_all_referenced_once(direct, dataset_id, SPLIT)


def test_a_creation_that_times_out_is_not_doubled_by_the_rerun(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    # Slower than the client's 3 s: the client gives up, udata makes the resource anyway.
    proxy.delay(RESOURCES, 4.0, times=1, method="POST")
    saved = Saved()
    with pytest.raises(ApiError) as raised:
        make_run(client, dataset_id, SPLIT, saved).run(None)
    assert raised.value.kind is ErrorKind.TIMEOUT
    assert raised.value.attempts == 1  # a creation is never retried blindly
    assert proxy.wait_idle(10)
    proxy.clear()

    outcome, _ = reference(client, dataset_id, SPLIT, saved.last)

    assert outcome.verified, outcome.mismatches
    assert_all_referenced_once(direct, dataset_id, SPLIT)


def test_a_creation_refused_with_429_is_sent_again_after_the_wait_and_not_doubled(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    # 429: the server did nothing, so sending the creation again is safe.
    proxy.fail("POST", RESOURCES, 429, times=1, headers={"Retry-After": "1"})
    outcome, _ = reference(client, dataset_id, SPLIT, None)
    assert outcome.verified, outcome.mismatches
    assert len(proxy.requests("POST", RESOURCES)) == 5
    assert_all_referenced_once(direct, dataset_id, SPLIT)


def test_an_update_failing_with_500_is_redone_by_the_rerun(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    changed = (hosted(SPLIT[0].path, 7, tag="v2"), *SPLIT[1:])
    proxy.fail("PUT", ONE_RESOURCE, 500, times=10)  # more than the retries
    with pytest.raises(ApiError):
        reference(client, dataset_id, changed, first.record)
    proxy.clear()

    again, _ = reference(client, dataset_id, changed, first.record)

    assert again.verified and again.count(ReferenceAction.UPDATE) == 1
    assert_all_referenced_once(direct, dataset_id, changed)


def test_a_key_revoked_mid_run_is_explained_without_the_key_and_a_rerun_finishes(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    saved = Saved()

    def revoke_after_the_first(event: ReferenceEvent) -> None:
        if event.kind == "file_done":
            proxy.fail(None, r"/datasets/", 401, times=None)

    with pytest.raises(ApiError) as raised:
        make_run(client, dataset_id, SPLIT, saved, revoke_after_the_first).run(None)
    assert raised.value.kind is ErrorKind.UNAUTHORIZED
    text = describe(raised.value, FR) + str(raised.value) + repr(raised.value)
    assert PARTNER.api_key not in text
    assert PARTNER.api_key not in repr(saved.records)
    assert saved.last is not None and len(saved.last.files) == 1
    proxy.clear()

    outcome, _ = reference(client, dataset_id, SPLIT, saved.last)

    assert outcome.verified
    assert_all_referenced_once(direct, dataset_id, SPLIT)


def test_a_run_cancelled_then_hit_by_a_500_then_resumed_loses_nothing(
    client: DataGouvClient, dataset_id: str, proxy: FaultProxy, direct: DataGouvClient
) -> None:
    cancel = threading.Event()
    saved = Saved()

    def cancel_after_two(event: ReferenceEvent) -> None:
        if event.kind == "file_done" and len(saved.records) == 2:
            cancel.set()

    with pytest.raises(ApiError) as raised:
        make_run(client, dataset_id, SPLIT, saved, cancel_after_two, cancel).run(None)
    assert raised.value.kind is ErrorKind.CANCELLED
    after_cancel = saved.last
    assert after_cancel is not None and len(after_cancel.files) == 2

    proxy.fail("POST", RESOURCES, 500, times=1)
    second = Saved()
    with pytest.raises(ApiError):
        make_run(client, dataset_id, SPLIT, second).run(after_cancel)
    assert second.records == []  # the 500 came first: nothing new to save
    proxy.clear()

    outcome, _ = reference(client, dataset_id, SPLIT, after_cancel)
    assert outcome.verified
    assert outcome.count(ReferenceAction.KEEP) == 2 and outcome.count(ReferenceAction.CREATE) == 2
    assert_all_referenced_once(direct, dataset_id, SPLIT)


# --- the page changed by hand on data.gouv.fr ---


def test_a_url_changed_by_hand_is_put_back_and_the_plan_says_which_field(
    client: DataGouvClient, dataset_id: str, direct: DataGouvClient
) -> None:
    first, _ = reference(client, dataset_id, SPLIT, None)
    target = first.record.file(SPLIT[0].path)
    assert target is not None
    direct.update_resource(dataset_id, target.resource_id, {"url": f"{BUCKET}/ailleurs.csv"})
    run = make_run(client, dataset_id, SPLIT, Saved())

    planned = {p.path: p for p in run.plan(first.record)}
    assert planned[SPLIT[0].path].action is ReferenceAction.UPDATE
    assert planned[SPLIT[0].path].changes == ("url",)
    mismatch = run.verify(first.record)
    assert [(m.key, m.params["read"]) for m in mismatch] == [
        ("references.mismatch.url", f"{BUCKET}/ailleurs.csv")
    ]

    again, _ = reference(client, dataset_id, SPLIT, first.record)
    assert again.verified and again.count(ReferenceAction.UPDATE) == 1
    assert again.record.file(SPLIT[0].path) == target  # the same resource, put back
    assert_all_referenced_once(direct, dataset_id, SPLIT)
    # …and said: which file, which field.
    assert updated_fields(again) == [("references.updated.url", {"path": SPLIT[0].path})]


def test_publish_says_which_field_of_which_file_it_put_back(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_release(tmp_path, udata_server)
    portal = keyed_portal(udata_server)
    assert run_publish(FR, tmp_path, yes=True, portal=portal, actor=STAFF) == 0
    release = projects.read_project(tmp_path)
    record, dataset = references_of(release), dataset_of(release)
    assert record is not None and dataset is not None
    with DataGouvClient(udata_server.url, PARTNER.api_key) as direct:
        direct.update_resource(
            dataset.dataset_id, record.files[0].resource_id, {"filesize": 1, "title": "À moi"}
        )
    capsys.readouterr()

    assert run_publish(FR, tmp_path, yes=True, portal=portal, actor=STAFF) == 0

    out = capsys.readouterr().out
    assert f"{record.files[0].path} : taille mise à jour sur la page." in out
    assert f"{record.files[0].path} : titre mis à jour sur la page." in out


def test_a_resource_added_by_hand_to_a_hosted_file_is_left_alone(
    client: DataGouvClient, dataset_id: str, direct: DataGouvClient
) -> None:
    # Before any run, the partner linked the sample by hand, with a title of their own.
    sample = SPLIT[2]
    by_hand = direct.create_remote_resource(
        dataset_id, title="Mon échantillon", url=sample.url, format="csv", type="other"
    )
    first, _ = reference(client, dataset_id, SPLIT, None)
    assert first.verified
    assert first.record.file(sample.path) is not None
    assert first.record.file(sample.path).resource_id != by_hand["id"]  # type: ignore[union-attr]

    again, _ = reference(client, dataset_id, SPLIT, first.record)

    assert again.duplicates_removed == ()
    kept = {r["id"]: r for r in server_resources(direct, dataset_id)}[by_hand["id"]]
    assert (kept["title"], kept["type"]) == ("Mon échantillon", "other")
    assert len(server_resources(direct, dataset_id)) == 5


def test_a_dataset_deleted_mid_run_is_said_plainly_and_the_next_run_stops_at_once(
    client: DataGouvClient, dataset_id: str, direct: DataGouvClient, proxy: FaultProxy
) -> None:
    saved = Saved()

    def delete_the_page(event: ReferenceEvent) -> None:
        if event.kind == "file_done" and len(saved.records) == 1:
            direct.delete_dataset(dataset_id)

    with pytest.raises(ReferencesError) as raised:
        make_run(client, dataset_id, SPLIT, saved, delete_the_page).run(None)
    assert raised.value.key == "references.error.dataset_gone"
    assert "étape 5" in raised.value.message(FR)
    proxy.clear()

    with pytest.raises(ReferencesError):
        reference(client, dataset_id, SPLIT, saved.last)
    assert changes(proxy) == []


def test_a_key_that_cannot_see_the_private_page_is_not_told_the_page_was_deleted(
    dataset_id: str, udata_server: UdataServer
) -> None:
    # HDH staff with their own key, never invited into the partner's organization: udata
    # answers 404, as for a deleted page; "redo step 5" alone would make a second page.
    with (
        DataGouvClient(udata_server.url, OPEN_SCIENCE.api_key) as staff,
        pytest.raises(ReferencesError) as raised,
    ):
        reference(staff, dataset_id, SPLIT, None)
    text = raised.value.message(FR)
    assert "ne peut pas la voir" in text and "étape 4 « Organisation sur data.gouv.fr »" in text
    assert dataset_id in text


# --- who may make them ---


def test_a_partner_cannot_make_references_from_publish_even_when_the_page_lost_one(
    tmp_path: Path, udata_server: UdataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    hosted_release(tmp_path, udata_server)
    portal = keyed_portal(udata_server)
    assert run_publish(FR, tmp_path, yes=True, portal=portal, actor=STAFF) == 0
    release = projects.read_project(tmp_path)
    record, dataset = references_of(release), dataset_of(release)
    assert record is not None and dataset is not None
    with DataGouvClient(udata_server.url, PARTNER.api_key) as direct:
        direct.delete_resource(dataset.dataset_id, record.files[0].resource_id)
    capsys.readouterr()

    assert run_publish(FR, tmp_path, yes=True, portal=portal, actor=ALICE) == 1

    assert "HDH" in capsys.readouterr().err
    with DataGouvClient(udata_server.url, PARTNER.api_key) as direct:
        assert len(direct.dataset(dataset.dataset_id)["resources"]) == 3  # not made again
    assert projects.read_project(tmp_path).record(StepId.REFERENCE_URLS).status is (StepStatus.DONE)


# --- on screen ---


async def test_a_hostile_state_on_screen_names_each_bad_file_and_sends_nothing(
    tmp_path: Path, udata_server: UdataServer
) -> None:
    bad = (*SPLIT, obj("publish/e.csv", url="javascript:alert(1)"))
    hosted_release(tmp_path, udata_server, bad)
    assert run_publish(FR, tmp_path, yes=True, portal=keyed_portal(udata_server)) == 1
    app = app_as(tmp_path, udata_server, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        await pilot.click("#refs-run")
        await until(pilot, lambda: not screen.running and "inutilisable" in status_text(screen))
        status = status_text(screen)
        assert "• publish/e.csv : l'URL (javascript:alert(1)) ne commence pas par" in status
        assert not screen.query_one("#refs-run").disabled  # ready for another try
    dataset = dataset_of(projects.read_project(tmp_path))
    assert dataset is not None
    with DataGouvClient(udata_server.url, PARTNER.api_key) as direct:
        assert direct.dataset(dataset.dataset_id)["resources"] == []


async def test_a_state_listing_a_file_twice_opens_on_screen_and_names_the_problem(
    tmp_path: Path, udata_server: UdataServer
) -> None:
    twice = (*SPLIT, replace(SPLIT[0], url=f"{BUCKET}/copie.csv"))
    hosted_release(tmp_path, udata_server, twice)
    assert run_publish(FR, tmp_path, yes=True, portal=keyed_portal(udata_server)) == 1
    app = app_as(tmp_path, udata_server, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)  # opened, not crashed
        assert sorted(cells(screen, "file")) == sorted(o.path for o in SPLIT)
        await pilot.click("#refs-run")
        await pilot.pause()
        assert f"{SPLIT[0].path} : enregistré plusieurs fois." in status_text(screen)


async def test_names_with_square_brackets_are_listed_as_typed_not_read_as_markup(
    tmp_path: Path, udata_server: UdataServer
) -> None:
    brackets = (
        *SPLIT,
        obj("publish/[/]crochets[red].csv", url=f"{BUCKET}/crochets%5Bred%5D.csv?v=[/b]"),
    )
    hosted_release(tmp_path, udata_server, brackets)
    assert run_publish(FR, tmp_path, yes=True, portal=keyed_portal(udata_server)) == 1
    app = app_as(tmp_path, udata_server, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        assert "publish/[/]crochets[red].csv" in cells(screen, "file")
        assert f"{BUCKET}/crochets%5Bred%5D.csv?v=[/b]" in cells(screen, "url")
        await pilot.click("#refs-run")
        await until(pilot, lambda: not screen.running and screen.outcome is not None)
        assert screen.outcome is not None and screen.outcome.verified
        await pilot.pause()
        assert app.is_running  # rendered without a markup error


async def test_a_password_in_a_hosted_url_is_hidden_on_screen_and_nothing_is_reopened(
    tmp_path: Path, udata_server: UdataServer
) -> None:
    bad = (
        *SPLIT,
        obj("publish/c.csv", url=f"https://hdh:{SECRET_PASSWORD}@stockage.hdh.example.org/c.csv"),
    )
    hosted_release(tmp_path, udata_server, bad)
    assert run_publish(FR, tmp_path, yes=True, portal=keyed_portal(udata_server)) == 1
    before = projects.read_project(tmp_path).record(StepId.REFERENCE_URLS)
    app = app_as(tmp_path, udata_server, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        urls = " ".join(cells(screen, "url"))
        assert SECRET_PASSWORD not in urls and "https://…@stockage.hdh.example.org/c.csv" in urls
        await pilot.click("#refs-run")
        await pilot.pause()
        status = status_text(screen)
        assert "publish/c.csv : l'URL contient un identifiant ou un mot de passe" in status
        assert SECRET_PASSWORD not in status
        assert not screen.running
    assert projects.read_project(tmp_path).record(StepId.REFERENCE_URLS) == before


async def test_cancel_on_screen_then_run_again_finishes_without_duplicates(
    tmp_path: Path, proxy: FaultProxy
) -> None:
    via: Any = Via(proxy)
    hosted_release(tmp_path, via)
    assert run_publish(FR, tmp_path, yes=True, portal=keyed_portal(via)) == 1
    proxy.delay(RESOURCES, 0.5, method="POST")
    app = app_as(tmp_path, via, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        await pilot.click("#refs-run")
        await until(pilot, lambda: screen.files_done >= 1)
        await pilot.click("#refs-cancel")
        await until(pilot, lambda: not screen.running)
        assert "annulé" in status_text(screen).lower()
        partial = references_of(projects.read_project(tmp_path))
        assert partial is not None and 1 <= len(partial.files) < 4

        await pilot.click("#refs-run")
        await until(pilot, lambda: not screen.running and screen.outcome is not None)
        assert screen.outcome is not None and screen.outcome.verified
    objects = tuple(SPLIT)
    dataset = dataset_of(projects.read_project(tmp_path))
    assert dataset is not None
    with DataGouvClient(proxy.url, PARTNER.api_key) as direct:
        assert_all_referenced_once(direct, dataset.dataset_id, objects)


async def test_quitting_mid_run_then_running_again_loses_nothing_and_doubles_nothing(
    tmp_path: Path, proxy: FaultProxy
) -> None:
    via: Any = Via(proxy)
    hosted_release(tmp_path, via)
    assert run_publish(FR, tmp_path, yes=True, portal=keyed_portal(via)) == 1
    proxy.delay(RESOURCES, 0.8, method="POST")
    app = app_as(tmp_path, via, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        await pilot.click("#refs-run")
        await until(pilot, lambda: screen.files_done >= 1)
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#yes")  # quit anyway
        await pilot.pause()
    assert proxy.wait_idle(15)  # the request under way when the app closed
    proxy.clear()

    app = app_as(tmp_path, via, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        await until(pilot, lambda: not screen.busy)
        await pilot.click("#refs-run")
        await until(pilot, lambda: not screen.running and screen.outcome is not None)
        assert screen.outcome is not None and screen.outcome.verified
        assert screen.outcome.duplicates_removed == ()
    dataset = dataset_of(projects.read_project(tmp_path))
    assert dataset is not None
    with DataGouvClient(proxy.url, PARTNER.api_key) as direct:
        assert_all_referenced_once(direct, dataset.dataset_id, SPLIT)


async def test_a_url_edited_by_hand_is_shown_on_opening_then_put_back_and_said(
    tmp_path: Path, udata_server: UdataServer
) -> None:
    hosted_release(tmp_path, udata_server)
    assert run_publish(FR, tmp_path, yes=True, portal=keyed_portal(udata_server), actor=STAFF) == 0
    release = projects.read_project(tmp_path)
    record, dataset = references_of(release), dataset_of(release)
    assert record is not None and dataset is not None
    edited = record.files[0]
    with DataGouvClient(udata_server.url, PARTNER.api_key) as direct:
        direct.update_resource(
            dataset.dataset_id, edited.resource_id, {"url": f"{BUCKET}/deplace.csv"}
        )
    app = app_as(tmp_path, udata_server, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        await until(pilot, lambda: screen.outcome is not None and not screen.busy)
        result = str(screen.query_one("#refs-result").render())
        assert f"{edited.path} : le serveur donne une autre URL ({BUCKET}/deplace.csv)" in result

        await pilot.click("#refs-run")
        await until(pilot, lambda: not screen.running and screen.outcome is not None)
        await until(pilot, lambda: screen.outcome is not None and screen.outcome.plan != ())
        result = str(screen.query_one("#refs-result").render())
        assert f"{edited.path} : URL mise à jour sur la page." in result
        assert screen.outcome is not None and screen.outcome.verified
    with DataGouvClient(udata_server.url, PARTNER.api_key) as direct:
        assert_all_referenced_once(direct, dataset.dataset_id, SPLIT)


class Via:
    """The local udata as seen through the proxy: the project aims at the proxy's address."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.url = proxy.url


async def test_escape_and_quit_during_a_run_are_refused_or_asked_and_the_state_stays_whole(
    tmp_path: Path, proxy: FaultProxy
) -> None:
    via: Any = Via(proxy)
    hosted_release(tmp_path, via)
    assert run_publish(FR, tmp_path, yes=True, portal=keyed_portal(via)) == 1
    proxy.delay(RESOURCES, 0.6, method="POST")  # each creation slowed down
    app = app_as(tmp_path, via, STAFF)
    async with app.run_test(size=REFERENCES_SIZE) as pilot:
        app.open_step(StepId.REFERENCE_URLS)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReferenceUrlsStepScreen)
        await until(pilot, lambda: not screen.busy)
        await pilot.click("#refs-run")
        await until(pilot, lambda: screen.running)

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen  # leaving is refused while resources are being made
        assert isinstance(screen, ReferenceUrlsStepScreen)
        assert any("Référencement en cours" in n.message for n in app._notifications)
        await pilot.click("#refs-verify")  # a check mid-run would see the page half done
        await pilot.pause()
        assert not screen.busy and screen.outcome is None
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.screen is not screen  # asked first
        await pilot.click("#no")  # stay
        await pilot.pause()
        assert app.screen is screen and app.is_running
        assert isinstance(screen, ReferenceUrlsStepScreen)

        await until(pilot, lambda: not screen.running, seconds=30)
        assert screen.outcome is not None and screen.outcome.verified
    saved = references_of(projects.read_project(tmp_path))
    assert saved is not None and len(saved.files) == 4
    assert PARTNER.api_key not in (tmp_path / "hdh-release.yaml").read_text()
