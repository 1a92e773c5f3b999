"""`hdh-wizard transfer [DIR]`: the files to host sent to HDH's storage, headless, for staff on a
server, from the connection details recorded in the project.

The secret comes from the keyring or `HDH_WIZARD_STORAGE_SECRET`. Each acknowledged part is
recorded in the project's state as it arrives: after Ctrl+C (the parts under way finish first),
a kill or a dropped network, running the command again resumes from the first missing part.
Once every file is verified, the step is committed if the project's person is HDH staff. Run
again once the step is done, it only checks the objects are still there (the step is not
reopened: the references made from it would go stale for nothing).

Exit 0 once every file is hosted and verified, 1 when something needs a person first (the
message says what), 2 on a usage error.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Role, Route, StepStatus
from hdh_wizard.core.hosting_records import TransferRecord, transfer_of
from hdh_wizard.core.release import Person, Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.errors import HdhWizardError, ProjectError
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.inspect.hosting_files import hosting_files
from hdh_wizard.services.secrets import Secret, SecretKind, SecretStore
from hdh_wizard.services.storage.config import StorageConfig, connect
from hdh_wizard.services.storage.errors import StorageError, describe
from hdh_wizard.services.storage.hosting import (
    HostedCheck,
    HostingProgress,
    pending_files,
    run_hosting,
    storage_details,
    stored_details,
    verify_hosted,
    with_details,
)
from hdh_wizard.services.storage.public_access import check_all_public
from hdh_wizard.services.storage.transfer import DEFAULT_WORKERS, TransferPhase
from hdh_wizard.ui.portal_presenters import transfer_amounts
from hdh_wizard.ui.presenters import resume_lines

STEP = StepId.SHARE_WITH_HDH
_LINE_EVERY = 2.0  # seconds between two progress lines when stderr is not a terminal


def run_transfer(
    cat: Catalogue,
    folder: Path,
    *,
    secrets: SecretStore | None = None,
    part_size: int | None = None,
    workers: int = DEFAULT_WORKERS,
    actor: Person | None = None,
) -> int:
    """`actor`: who runs the transfer (default: whoever last worked on the release); only HDH
    staff may mark the step done."""
    if not projects.has_project(folder):
        raise ProjectError("error.no_project", folder=str(folder))
    lock = projects.acquire_lock(folder)
    try:
        project, report = projects.open_project(folder, None, datetime.now(UTC))
        for line in resume_lines(cat, report):  # files changed since: say which, first
            print(line, file=sys.stderr)
        if actor is not None:
            project.release = workflow.set_actor(project.release, actor)
        return _Transfer(cat, project, secrets or SecretStore(), part_size, workers).run()
    finally:
        lock.release()


class _Transfer:
    def __init__(
        self,
        cat: Catalogue,
        project: projects.Project,
        secrets: SecretStore,
        part_size: int | None,
        workers: int,
    ) -> None:
        self.cat = cat
        self.project = project
        self.secrets = secrets
        self.part_size = part_size
        self.workers = workers
        self.cancel = threading.Event()
        self.printer = _Printer(cat)

    @property
    def release(self) -> Release:
        return self.project.release

    def fail(self, message: str) -> int:
        self.printer.end_line()
        print(f"hdh-wizard: {message}", file=sys.stderr)
        return 1

    def run(self) -> int:
        cat, release = self.cat, self.release
        if workflow.route_of(release) is not Route.HOSTED:  # ≤ 1 Go: deposited, not hosted
            return self.fail(cat.t("cli.transfer.not_hosted"))
        record = transfer_of(release)
        config = storage_details(record)
        if config is None:
            return self.fail(cat.t("cli.transfer.no_details"))
        problems = config.problems()
        if problems:
            return self.fail(cat.t(problems[0]))
        secret = self.secrets.get(SecretKind.STORAGE_SECRET, config.secret_url)
        if secret is None:
            return self.fail(cat.t("cli.transfer.no_secret", url=config.secret_url))
        blockers = workflow.blockers(release, STEP)
        if blockers:
            names = ", ".join(cat.t(f"step.{b.value}.title") for b in blockers)
            return self.fail(cat.t("hosting.blocked", steps=names))
        files, missing = hosting_files(release, self.project.folder)
        if missing:
            return self.fail(cat.t("hosting.error.missing", paths=", ".join(missing)))
        done = release.record(STEP).status is StepStatus.DONE and record is not None
        if done and record is not None and not pending_files(files, record, config):
            try:
                if self.still_hosted(config, secret, record):
                    return 0
            except StorageError as error:
                return self.fail(describe(error, cat))
        clean = config.normalized()
        total = sum(f.size for f in files)
        print(
            cat.t(
                "cli.transfer.target",
                endpoint=clean.endpoint_url,
                bucket=clean.bucket,
                prefix=clean.prefix,
                count=len(files),
                size=format_size(total, cat.lang),
            ),
            file=sys.stderr,
        )
        self.reopen(with_details(record, stored_details(config)))
        try:
            with self.interruptible():
                outcome = run_hosting(
                    release,
                    self.project.folder,
                    config,
                    secret,
                    record=transfer_of(self.release),
                    now=lambda: datetime.now(UTC),
                    save=self.save,
                    progress=self.printer.progress,
                    checked=self.printer.checked,
                    cancel=self.cancel,
                    part_size=self.part_size,
                    workers=self.workers,
                )
        except StorageError as error:
            return self.fail(describe(error, cat))
        except HdhWizardError as error:
            return self.fail(error.message(cat))
        self.printer.end_line()
        if not outcome.ok:
            return self.fail(cat.t("hosting.not_verified", count=len(outcome.failed)))
        print(cat.t("cli.transfer.done", count=len(outcome.checks)))
        self.say_public_access(outcome.record)
        return self.commit(outcome.record)

    def say_public_access(self, record: TransferRecord) -> None:
        """The URLs to reference, asked as the public would: a closed bucket is said now, not
        found at the references step."""
        objects = record.objects
        checks = check_all_public([(o.url, o.size) for o in objects])
        closed = [(o, c) for o, c in zip(objects, checks, strict=True) if not c.ok]
        if not closed:
            print(self.cat.t("hosting.public.all_open", count=len(objects)))
            return
        print(self.cat.t("hosting.public.some_closed", count=len(closed)), file=sys.stderr)
        for hosted, check in closed:
            print("  " + check.message(self.cat, hosted.path), file=sys.stderr)

    def still_hosted(self, config: StorageConfig, secret: Secret, record: TransferRecord) -> bool:
        """A done step run again: are its objects still there, whole? (One HEAD each.)"""
        checks = verify_hosted(connect(config, secret), record.objects, cancel=self.cancel)
        if not all(c.ok for c in checks):
            return False  # sent again below, the step reopened meanwhile
        for check in checks:
            self.printer.checked(check)
        print(self.cat.t("cli.transfer.already_done", count=len(checks)))
        return True

    def reopen(self, record: TransferRecord) -> None:
        """A finished step is reopened before files are sent again; the details are kept."""
        actor, now = self.release.actor, datetime.now(UTC)
        release = self.release
        if release.record(STEP).status in (StepStatus.DONE, StepStatus.STALE, StepStatus.SKIPPED):
            release = workflow.undo_step(release, STEP, actor, now)[0]
        release = workflow.save_draft(release, STEP, record.to_outputs(), actor, now)
        projects.save(self.project, release)

    def save(self, record: TransferRecord) -> None:
        release = workflow.record_progress(
            self.release, STEP, record.to_outputs(), datetime.now(UTC)
        )
        projects.save(self.project, release)

    def commit(self, record: TransferRecord) -> int:
        actor = self.release.actor
        if actor.role is not Role.HDH_STAFF:
            print(self.cat.t("cli.transfer.needs_staff"))
            return 0
        done = TransferRecord(dict(record.storage), record.objects, {}, actor.name)
        try:
            release = workflow.commit_step(
                self.release, STEP, done.to_outputs(), actor, datetime.now(UTC)
            )
        except HdhWizardError as error:
            print(self.cat.t("cli.transfer.not_committed", reason=error.message(self.cat)))
            return 1
        projects.save(self.project, release)
        print(self.cat.t("cli.transfer.committed", name=actor.name))
        return 0

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """Ctrl+C (or SIGTERM) asks the transfer to stop after the parts under way, which are
        then recorded; a second Ctrl+C stops at once (the next run still resumes)."""

        def stop(signum: int, frame: FrameType | None) -> None:
            if self.cancel.is_set():
                raise KeyboardInterrupt
            self.cancel.set()
            self.printer.end_line()
            print(self.cat.t("cli.transfer.interrupting"), file=sys.stderr)

        if threading.current_thread() is not threading.main_thread():
            yield  # signals can only be caught in the main thread (tests call from others)
            return
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class _Printer:
    """Results on stdout, progress on stderr: one line rewritten in a terminal, a line every few
    seconds otherwise (a log file, a job scheduler)."""

    def __init__(self, cat: Catalogue) -> None:
        self.cat = cat
        self.live = sys.stderr.isatty()
        self.pending = False
        self.last_line = 0.0
        self.last_path = ""

    def progress(self, report: HostingProgress) -> None:
        now = time.monotonic()
        new_file = report.path != self.last_path
        if not self.live and not new_file and now - self.last_line < _LINE_EVERY:
            return
        if report.phase is TransferPhase.DONE and not self.live:
            return
        self.last_path, self.last_line = report.path, now
        text = self.line(report)
        if self.live:
            print("\r\033[K" + text, end="", file=sys.stderr, flush=True)
            self.pending = True
        else:
            print(text, file=sys.stderr, flush=True)

    def line(self, report: HostingProgress) -> str:
        cat = self.cat
        phase = cat.t(f"storage.phase.{report.phase.value}")
        file = cat.t(
            "hosting.progress.file",
            path=report.path,
            phase=phase,
            **transfer_amounts(self.cat, report.file),
        )
        overall = cat.t(
            "hosting.progress.overall",
            index=report.index + 1,
            count=report.count,
            **transfer_amounts(self.cat, report.overall),
        )
        return f"{overall} | {file}"

    def checked(self, check: HostedCheck) -> None:
        self.end_line()
        if check.ok:
            print(self.cat.t("cli.transfer.file_done", path=check.path, url=check.url), flush=True)
        else:
            problems = " ".join(self.cat.t(p) for p in check.check.problems)
            print(
                self.cat.t("cli.transfer.file_bad", path=check.path, problems=problems),
                flush=True,
            )

    def end_line(self) -> None:
        if self.pending:
            print(file=sys.stderr)
            self.pending = False
