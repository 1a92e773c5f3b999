"""Reference the files hosted by HDH on the dataset page: one remote resource per file.

Route 2's step 7. Each hosted object (core.hosting_records.HostedObject) becomes a resource of
type `remote` whose URL is the object's public URL, with its size and SHA-256 checksum; data and
the sample are `main` resources (the sample said to be the file to look at first, in its title
and description), documents `documentation` ones.

Used by the references screen (in a worker thread) and by `hdh-wizard publish`. A run is
idempotent: the resources recorded in the state (ReferencesRecord) are matched by id and checked
on the server; an unchanged one is left alone (nothing sent), a changed one updated in place,
one deleted on the server made again, one whose file is no longer hosted deleted. A resource
created by a request whose answer was lost is found by its URL and its SHA-256 checksum (what
every creation sends) and adopted, never doubled; a resource added by hand on the page (no
such checksum) is left alone, even when it links to a hosted file. Every change the server
accepts is handed to `save` at once.

The hosted files come from the state, which a person may have edited: each is checked before
anything is sent (an http(s) URL with no password nor signature in it, a 64-digit SHA-256, a
plausible size, one URL per file), and an unusable one stops the run with every problem named.

Published text is French, data.gouv.fr's language, whatever the wizard's.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from hdh_wizard.core.hosting_records import (
    FileRole,
    HostedObject,
    ReferencedFile,
    ReferencesRecord,
)
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind
from hdh_wizard.services.datagouv.resource_order import (
    OrderedResource,
    ResourceGroup,
    put_in_order,
    resource_group,
)
from hdh_wizard.services.storage.public_access import (
    CLOSED,
    PublicCheck,
    check_all_public,
)

CHECKSUM_TYPE = "sha256"
TITLE_LIMIT = 350  # udata's TITLE_SIZE_LIMIT
PATH_LIMIT = 1024  # an S3 key's limit: a longer path cannot be a hosted file
SIZE_LIMIT = 2**53 - 1  # beyond, a size is no real file, and JSON readers lose its digits
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# Query parameters of a signed (temporary) URL: it stops working within days, and publishing it
# publishes a credential's name and signature.
_SIGNED_QUERY = frozenset(
    {
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "signature",
        "awsaccesskeyid",
        "x-goog-signature",
        "x-goog-credential",
        "sig",
    }
)
# Characters that change how the text around them is shown (right-to-left overrides…): in a
# title they can disguise a file's name or extension.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e") | frozenset(
    "\u2066\u2067\u2068\u2069"
)


class ReferencesError(HdhWizardError):
    """The references cannot be made: no hosted file, no dataset page, the page deleted, or
    hosted files recorded unusably (`details`: one catalogue key and its parameters each)."""

    def __init__(
        self, key: str, details: Sequence[tuple[str, dict[str, Any]]] = (), **params: Any
    ) -> None:
        super().__init__(key, **params)
        self.details = tuple(details)


class ReferenceAction(StrEnum):
    CREATE = "create"  # no resource yet (or it was deleted on the server)
    UPDATE = "update"  # the resource is there, but its URL, size, checksum… changed
    KEEP = "keep"  # the resource is there, as it should be: nothing sent
    DELETE = "delete"  # the file is no longer hosted: its resource goes


# --- what each resource should be ---------------------------------------------------------------


@dataclass(frozen=True)
class DesiredResource:
    """A hosted file as a remote resource, in udata's words."""

    title: str
    url: str
    format: str
    type: str
    description: str
    filesize: int
    sha256: str

    def payload(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "url": self.url,
            "format": self.format,
            "type": self.type,
            "description": self.description,
            "filesize": self.filesize,
            "checksum": {"type": CHECKSUM_TYPE, "value": self.sha256},
        }


def clean_name(text: str) -> str:
    """A name as a title shows it: no control character (a newline becomes a space), no
    direction override, spaces collapsed."""
    kept = (" " if unicodedata.category(c) == "Cc" else c for c in text if c not in _BIDI_CONTROLS)
    return " ".join("".join(kept).split())


def _code(name: str) -> str:
    """`name` as a Markdown code span: a file name is shown as typed, never as emphasis, a link
    or HTML (`a__b__.csv`, `<img …>`)."""
    longest = max((len(run) for run in re.findall(r"`+", name)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if name.startswith("`") or name.endswith("`") else ""
    return f"{fence}{pad}{name}{pad}{fence}"


def published_url(url: str) -> str:
    """The URL as the page holds it: udata strips spaces around it and refuses a host written
    in capitals (`Invalid TLD ORG`), though the host is the same in any case."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" in parts.netloc:
        return url
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()))


def group_of(obj: HostedObject) -> ResourceGroup:
    return resource_group(
        obj.format,
        documentation=obj.role is FileRole.DOCUMENTATION,
        sample=obj.role is FileRole.SAMPLE,
    )


def display_order(objects: Sequence[HostedObject]) -> list[HostedObject]:
    """The order the page shows: the main tables, the sample, the images, the documents."""
    return sorted(objects, key=lambda o: (group_of(o), o.path))


def resource_titles(objects: Sequence[HostedObject]) -> dict[str, str]:
    """path → title: the file's name, or its whole path when two files share a name (slides
    of several stages: `stade_1/a.tiff`, `stade_2/a.tiff`); the sample says it is one."""
    cat = load_catalogue(Lang.FR)
    names = Counter(PurePosixPath(o.path).name for o in objects)
    titles: dict[str, str] = {}
    for obj in objects:
        name = PurePosixPath(obj.path).name
        shown = clean_name(name if names[name] == 1 else obj.path)
        if obj.role is FileRole.SAMPLE:
            shown = cat.t("references.resource.sample_title", name=shown)
        titles[obj.path] = shown[:TITLE_LIMIT].strip()
    return titles


def resource_description(obj: HostedObject) -> str:
    """What the file is, its size and its SHA-256, so anyone can check a download."""
    cat = load_catalogue(Lang.FR)
    name = _code(clean_name(PurePosixPath(obj.path).name)[:TITLE_LIMIT])
    if obj.role is FileRole.DOCUMENTATION:
        kind = "documentation"
    else:
        kind = obj.format if cat.has(f"references.resource.{obj.format}") else "other"
    text = cat.t(
        f"references.resource.{kind}",
        name=name,
        format=obj.format.upper() or "?",
        size=format_size(obj.size, cat.lang),
        sha256=obj.sha256.lower(),
    )
    if obj.role is FileRole.SAMPLE:
        text = cat.t("references.resource.sample_intro") + " " + text
    return text


def desired_resource(obj: HostedObject, title: str) -> DesiredResource:
    resource_type = "documentation" if obj.role is FileRole.DOCUMENTATION else "main"
    return DesiredResource(
        title=title,
        url=published_url(obj.url),
        format=obj.format.strip().lower(),  # as udata normalizes it
        type=resource_type,
        description=resource_description(obj),
        filesize=obj.size,
        sha256=obj.sha256.lower(),
    )


def differences(resource: Mapping[str, Any], desired: DesiredResource) -> tuple[str, ...]:
    """The fields in which the server's resource is not what it should be."""
    checksum = resource.get("checksum")
    checksum = checksum if isinstance(checksum, Mapping) else {}
    read = {
        "title": str(resource.get("title") or ""),
        "url": str(resource.get("url") or "").strip(),
        "format": str(resource.get("format") or "").lower(),
        "type": str(resource.get("type") or ""),
        "description": str(resource.get("description") or "").strip(),
        "filesize": resource.get("filesize"),
        "checksum": (
            str(checksum.get("type") or ""),
            str(checksum.get("value") or "").lower(),
        ),
    }
    wanted = {
        "title": desired.title,
        "url": desired.url.strip(),
        "format": desired.format,
        "type": desired.type,
        "description": desired.description.strip(),
        "filesize": desired.filesize,
        "checksum": (CHECKSUM_TYPE, desired.sha256),
    }
    return tuple(name for name, value in wanted.items() if read[name] != value)


@dataclass(frozen=True)
class ReferenceMismatch:
    """A referenced file the server does not hold as recorded, or a hosted file recorded
    unusably: a catalogue key and its params."""

    path: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)


# --- what the state says is hosted, checked -------------------------------------------------


def shown_path(path: str) -> str:
    """A path as a message shows it: control characters visible, a long one shortened."""
    shown = "".join(
        c.encode("unicode_escape").decode() if unicodedata.category(c) == "Cc" else c for c in path
    )
    shown = "".join(c for c in shown if c not in _BIDI_CONTROLS)
    return shown if len(shown) <= 120 else f"{shown[:60]}…{shown[-40:]}"


def _shown_url(url: str) -> str:
    """A URL as a message shows it: never what sits before an `@` (a password) nor a query (a
    signature), and not endless."""
    shown = re.sub(r"//[^/?#]*@", "//…@", url.strip())
    shown = shown.split("?", 1)[0].split("#", 1)[0]
    return shown_path(shown)


def shown_url(url: str) -> str:
    """A hosted file's URL as a screen lists it: as it is, unless it holds a password or a
    signature, which are hidden."""
    problem = _url_problem(url)
    if problem in ("references.bad.url_credentials", "references.bad.url_signed"):
        return _shown_url(url)
    return url


def _url_problem(url: str) -> str | None:
    """The catalogue key of what makes `url` unfit to be published, or None."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "references.bad.url_malformed"
    if parts.username is not None or parts.password is not None:
        return "references.bad.url_credentials"
    if any(key.lower() in _SIGNED_QUERY for key, _ in parse_qsl(parts.query)):
        return "references.bad.url_signed"
    if parts.scheme.lower() not in ("http", "https"):
        return "references.bad.url_scheme"
    # Spaces, control and format characters (a right-to-left override disguises a URL).
    if not parts.hostname or any(
        c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in text
    ):
        return "references.bad.url_malformed"
    return None


def hosted_problems(objects: Sequence[HostedObject]) -> list[ReferenceMismatch]:
    """What makes the recorded hosted files unusable on a page, one line each (none: usable)."""
    problems: list[ReferenceMismatch] = []
    paths = Counter(o.path for o in objects)
    urls = Counter(published_url(o.url) for o in objects)
    for obj in display_order(objects):
        shown = shown_path(obj.path)
        # A control character (an escape sequence, a newline) or a direction override in a
        # name would reach the terminal and the page as it is.
        unreadable = any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in obj.path)
        name = clean_name(PurePosixPath(obj.path).name)
        if unreadable or not name or len(obj.path) > PATH_LIMIT:
            problems.append(ReferenceMismatch(shown, "references.bad.path", {"limit": PATH_LIMIT}))
        if paths[obj.path] > 1:
            problems.append(ReferenceMismatch(shown, "references.bad.same_path"))
        url_problem = _url_problem(obj.url)
        if url_problem is not None:
            problems.append(ReferenceMismatch(shown, url_problem, {"url": _shown_url(obj.url)}))
        elif urls[published_url(obj.url)] > 1:
            problems.append(
                ReferenceMismatch(shown, "references.bad.same_url", {"url": _shown_url(obj.url)})
            )
        if not _SHA256.fullmatch(obj.sha256):
            problems.append(
                ReferenceMismatch(
                    shown, "references.bad.sha256", {"sha256": shown_path(obj.sha256)}
                )
            )
        if not 0 <= obj.size <= SIZE_LIMIT:
            problems.append(ReferenceMismatch(shown, "references.bad.size", {"size": obj.size}))
    # A path recorded twice is said once.
    said: set[tuple[str, str, str]] = set()
    unique: list[ReferenceMismatch] = []
    for problem in problems:
        seen = (problem.path, problem.key, repr(sorted(problem.params.items())))
        if seen not in said:
            said.add(seen)
            unique.append(problem)
    return unique


def check_hosted(objects: Sequence[HostedObject]) -> None:
    """Raises ReferencesError, every problem named, if the hosted files cannot be referenced."""
    problems = hosted_problems(objects)
    if problems:
        raise ReferencesError(
            "references.error.bad_hosted",
            [(p.key, {"path": p.path, **p.params}) for p in problems],
            count=len({p.path for p in problems}),
        )


PublicChecker = Callable[[Sequence[tuple[str, int]]], list[PublicCheck]]


def check_public_access(
    objects: Sequence[HostedObject], check: PublicChecker = check_all_public
) -> list[tuple[HostedObject, PublicCheck]]:
    """Ask each URL as the public will. Raises ReferencesError, each file named, when one is
    refused, missing or gives another file: the page would publish dead links. Returns the
    files whose URL did not answer from here (a network that cannot see it: said, not fatal)."""
    checks = check([(o.url, o.size) for o in objects])
    closed = [(o, c) for o, c in zip(objects, checks, strict=True) if c.access in CLOSED]
    if closed:
        raise ReferencesError(
            "references.error.not_public",
            [(c.key, c.params(shown_path(o.path))) for o, c in closed],
            count=len(closed),
        )
    return [(o, c) for o, c in zip(objects, checks, strict=True) if not c.ok]


def _ours(resource: Mapping[str, Any]) -> bool:
    """A remote resource made by this wizard carries a SHA-256 checksum (every creation sends
    one); one added by hand on data.gouv.fr does not."""
    checksum = resource.get("checksum")
    return (
        resource.get("filetype") == "remote"
        and isinstance(checksum, Mapping)
        and checksum.get("type") == CHECKSUM_TYPE
    )


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedReference:
    path: str
    action: ReferenceAction
    hosted: HostedObject | None  # None for DELETE
    desired: DesiredResource | None  # None for DELETE
    resource_id: str = ""  # the resource kept, updated or deleted ("" for CREATE)
    changes: tuple[str, ...] = ()  # for UPDATE: the fields that differ


def _remote_resources(dataset: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    resources = dataset.get("resources")
    if not isinstance(resources, list):
        return []
    return [r for r in resources if isinstance(r, Mapping) and isinstance(r.get("id"), str)]


def plan_references(
    objects: Sequence[HostedObject],
    record: ReferencesRecord | None,
    resources: Sequence[Mapping[str, Any]],
) -> list[PlannedReference]:
    """What to do for each hosted file (in the page's order), then for each resource whose
    file is no longer hosted. `record` is what the state says was referenced on this dataset;
    `resources` what the server holds now."""
    by_id = {str(r["id"]): r for r in resources}
    recorded = {f.path: f for f in (record.files if record else ())}
    claimed = {f.resource_id for f in recorded.values() if f.resource_id in by_id}
    titles = resource_titles(objects)
    plan: list[PlannedReference] = []
    used: set[str] = set()  # one resource per file, whatever a hand-edited state says
    for obj in display_order(objects):
        desired = desired_resource(obj, titles[obj.path])
        known = recorded.get(obj.path)
        resource = by_id.get(known.resource_id) if known else None
        if resource is not None and str(resource["id"]) in used:
            resource = None
        if resource is None:
            # An earlier request made it, and its answer was lost: same URL, claimed by no one,
            # and made by the wizard (a resource added by hand is left alone).
            resource = next(
                (
                    r
                    for r in resources
                    if str(r["id"]) not in claimed
                    and _ours(r)
                    and str(r.get("url") or "").strip() == desired.url
                ),
                None,
            )
            if resource is not None:
                claimed.add(str(resource["id"]))
        if resource is None:
            plan.append(PlannedReference(obj.path, ReferenceAction.CREATE, obj, desired))
            continue
        used.add(str(resource["id"]))
        changed = differences(resource, desired)
        action = ReferenceAction.UPDATE if changed else ReferenceAction.KEEP
        plan.append(PlannedReference(obj.path, action, obj, desired, str(resource["id"]), changed))
    hosted = {o.path for o in objects}
    for path, known in recorded.items():
        if path not in hosted:
            # Gone from the server, or (a hand-edited state) the resource of a hosted file.
            gone = known.resource_id not in by_id or known.resource_id in used
            plan.append(
                PlannedReference(
                    path, ReferenceAction.DELETE, None, None, "" if gone else known.resource_id
                )
            )
    return plan


def references_match(
    record: ReferencesRecord | None, objects: Sequence[HostedObject], dataset_id: str
) -> bool:
    """Does the state's record reference exactly these hosted files, as they are now?"""
    if record is None or record.dataset_id != dataset_id or not objects:
        return False
    referenced = {(f.path, f.url, f.size, f.sha256.lower(), f.role) for f in record.files}
    hosted = {(o.path, o.url, o.size, o.sha256.lower(), o.role) for o in objects}
    return referenced == hosted


# --- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceEvent:
    """What the screen or the command shows while the references are made."""

    kind: str  # reading, file_done, deleted, duplicate_removed, verified
    path: str = ""
    action: ReferenceAction | None = None
    index: int = 0  # the file's position among the hosted files (1-based)
    count: int = 0


@dataclass(frozen=True)
class ReferencesOutcome:
    record: ReferencesRecord
    plan: tuple[PlannedReference, ...] = ()
    mismatches: tuple[ReferenceMismatch, ...] = ()
    duplicates_removed: tuple[str, ...] = ()  # resource ids

    @property
    def verified(self) -> bool:
        return not self.mismatches

    def count(self, action: ReferenceAction) -> int:
        return sum(1 for p in self.plan if p.action is action)


@dataclass
class ReferenceRun:
    client: DataGouvClient
    site: str
    dataset_id: str
    objects: Sequence[HostedObject]
    save: Callable[[ReferencesRecord], None]
    on_event: Callable[[ReferenceEvent], None] = lambda _event: None
    cancel: threading.Event = field(default_factory=threading.Event)

    def dataset(self) -> dict[str, Any]:
        """The dataset page; its deletion on data.gouv.fr is said plainly."""
        try:
            dataset = self.client.dataset(self.dataset_id)
        except ApiError as error:
            if error.kind is ErrorKind.GONE:
                raise ReferencesError("references.error.dataset_gone", site=self.site) from None
            if error.kind is ErrorKind.NOT_FOUND:
                # udata answers 404 too to an account that may not see a private page (HDH
                # staff with their own key, not a member of the partner's organization).
                raise ReferencesError(
                    "references.error.dataset_unseen", site=self.site, id=self.dataset_id
                ) from None
            raise
        if dataset.get("deleted"):
            raise ReferencesError("references.error.dataset_gone", site=self.site)
        return dataset

    def start_record(self, record: ReferencesRecord | None) -> ReferencesRecord:
        """The record for this dataset: another dataset's references say nothing about it."""
        if record is None or record.dataset_id != self.dataset_id:
            return ReferencesRecord(self.site, self.dataset_id)
        return replace(record, site=self.site)

    def plan(self, record: ReferencesRecord | None) -> list[PlannedReference]:
        """What a run would do now (one read of the dataset, nothing sent)."""
        current = self.start_record(record)
        return plan_references(self.objects, current, _remote_resources(self.dataset()))

    def run(self, record: ReferencesRecord | None) -> ReferencesOutcome:
        if not self.objects:
            raise ReferencesError("references.error.nothing_hosted")
        check_hosted(self.objects)  # before anything is sent: a bad file stops the whole run
        current = self.start_record(record)
        self.on_event(ReferenceEvent("reading"))
        plan = plan_references(self.objects, current, _remote_resources(self.dataset()))
        files = [p for p in plan if p.action is not ReferenceAction.DELETE]
        # udata puts each new resource first: made from the last to the first, the page shows
        # them in the planned order (the tables first).
        for index, planned in reversed(list(enumerate(files, start=1))):
            if self.cancel.is_set():
                raise ApiError(ErrorKind.CANCELLED, message="cancelled")
            current = self._apply(current, planned)
            self.on_event(
                ReferenceEvent("file_done", planned.path, planned.action, index, len(files))
            )
        for planned in plan:
            if planned.action is ReferenceAction.DELETE:
                if planned.resource_id:
                    self.client.delete_resource(self.dataset_id, planned.resource_id)
                current = _without(current, planned.path)
                self.save(current)
                # A path only a hand-edited record holds: printed safely.
                self.on_event(ReferenceEvent("deleted", shown_path(planned.path), planned.action))
        removed = self._drop_duplicates(current, record)
        self.put_in_order(current)
        mismatches = self.verify(current)
        return ReferencesOutcome(current, tuple(plan), tuple(mismatches), tuple(removed))

    def put_in_order(self, record: ReferencesRecord) -> None:
        """The page in the planned order, kept after re-runs: a resource made again (deleted
        on the page, or a new file such as a cleaned slide) would otherwise show first."""
        rank = {o.path: i for i, o in enumerate(display_order(self.objects))}
        hosted = {o.path: o for o in self.objects}
        ours = [
            OrderedResource(f.resource_id, group_of(hosted[f.path]), rank[f.path])
            for f in record.files
            if f.path in hosted
        ]
        put_in_order(self.client, self.dataset_id, ours)

    def _apply(self, record: ReferencesRecord, planned: PlannedReference) -> ReferencesRecord:
        hosted, desired = planned.hosted, planned.desired
        assert hosted is not None and desired is not None
        resource_id = planned.resource_id
        if planned.action is ReferenceAction.CREATE:
            created = self.client.create_remote_resource(
                self.dataset_id,
                title=desired.title,
                url=desired.url,
                format=desired.format,
                type=desired.type,
                description=desired.description,
                filesize=desired.filesize,
                checksum=(CHECKSUM_TYPE, desired.sha256),
            )
            resource_id = str(created.get("id") or "")
            if not resource_id:
                raise ApiError(ErrorKind.UNEXPECTED, message="no id", method="POST")
        elif planned.action is ReferenceAction.UPDATE:
            self.client.update_resource(self.dataset_id, resource_id, desired.payload())
        referenced = ReferencedFile(
            hosted.path,
            resource_id,
            hosted.url,
            hosted.size,
            hosted.sha256.lower(),
            desired.title,
            hosted.role,
        )
        updated = _with_file(record, referenced)
        if updated != record:
            self.save(updated)  # at once: a crash now must not lead to a second resource
        return updated

    def _drop_duplicates(
        self, record: ReferencesRecord, previous: ReferencesRecord | None
    ) -> list[str]:
        """A creation whose answer was lost leaves a resource nobody recorded, made by the
        wizard, with the URL of a hosted file (or of one referenced before): that copy goes.
        Other resources (added by hand on the page, even to a hosted file) are left alone."""
        ours = {f.resource_id for f in record.files}
        urls = {published_url(o.url) for o in self.objects}
        urls.update(published_url(f.url) for f in (previous.files if previous else ()))
        removed: list[str] = []
        for resource in _remote_resources(self.dataset()):
            rid = str(resource["id"])
            if (
                rid not in ours
                and _ours(resource)
                and str(resource.get("url") or "").strip() in urls
            ):
                self.client.delete_resource(self.dataset_id, rid)
                removed.append(rid)
                self.on_event(ReferenceEvent("duplicate_removed", rid))
        return removed

    # --- the check -----------------------------------------------------------------------------

    def verify(self, record: ReferencesRecord) -> list[ReferenceMismatch]:
        """Each referenced file read back from the server: its URL, size, checksum and type;
        and every hosted file referenced."""
        by_id = {str(r["id"]): r for r in _remote_resources(self.dataset())}
        mismatches: list[ReferenceMismatch] = []
        titles = resource_titles(self.objects)
        hosted = {o.path: o for o in self.objects}
        for referenced in record.files:
            resource = by_id.get(referenced.resource_id)
            shown = shown_path(referenced.path)  # a hand-edited record: printed safely
            if resource is None:
                mismatches.append(ReferenceMismatch(shown, "references.mismatch.missing"))
                continue
            obj = hosted.get(referenced.path)
            if obj is None:
                mismatches.append(ReferenceMismatch(shown, "references.mismatch.not_hosted"))
                continue
            changed = differences(resource, desired_resource(obj, titles[obj.path]))
            for name in ("url", "filesize", "checksum", "type"):
                if name in changed:
                    mismatches.append(
                        ReferenceMismatch(
                            shown,
                            f"references.mismatch.{name}",
                            {"read": _shown(resource, name)},
                        )
                    )
        recorded = {f.path for f in record.files}
        for path in sorted(set(hosted) - recorded):
            mismatches.append(
                ReferenceMismatch(shown_path(path), "references.mismatch.not_referenced")
            )
        self.on_event(ReferenceEvent("verified"))
        return mismatches


def updated_fields(outcome: ReferencesOutcome) -> list[tuple[str, dict[str, Any]]]:
    """What each update changed, as catalogue keys and their parameters (one line a field):
    a hosted file changed, or a resource edited by hand on the page put back."""
    return [
        (f"references.updated.{name}", {"path": shown_path(p.path)})
        for p in outcome.plan
        if p.action is ReferenceAction.UPDATE
        for name in p.changes
    ]


def _shown(resource: Mapping[str, Any], name: str) -> str:
    """What the server holds for a field, as a mismatch shows it."""
    value = resource.get(name)
    if name == "checksum" and isinstance(value, Mapping):
        return f"{value.get('type', '')}:{value.get('value', '')}"
    return "—" if value in (None, "") else str(value)


def _with_file(record: ReferencesRecord, referenced: ReferencedFile) -> ReferencesRecord:
    if record.file(referenced.path) == referenced:
        return record
    others = tuple(f for f in record.files if f.path != referenced.path)
    return replace(record, files=(*others, referenced))


def _without(record: ReferencesRecord, path: str) -> ReferencesRecord:
    return replace(record, files=tuple(f for f in record.files if f.path != path))
