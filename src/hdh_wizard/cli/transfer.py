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

import sys
import time
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from hdh_wizard import project as projects
from hdh_wizard.cli.interrupt import cancel_on_interrupt
from hdh_wizard.cli.opened import opened_project
from hdh_wizard.core.hosting_records import TransferRecord, transfer_of
from hdh_wizard.core.release import Person
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import transfer as flow
from hdh_wizard.flows.port import FlowContext, ProjectStore
from hdh_wizard.flows.transfer import (
    AlreadyHosted,
    NeedsStaff,
    Plan,
    Refusal,
    Refused,
    TransferEvents,
)
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import format_size
from hdh_wizard.present.portal_presenters import transfer_amounts
from hdh_wizard.present.presenters import printable
from hdh_wizard.services.secrets import SecretKind, SecretStore
from hdh_wizard.services.storage.errors import StorageError, describe
from hdh_wizard.services.storage.hosting import HostedCheck, HostingProgress, storage_details
from hdh_wizard.services.storage.transfer import DEFAULT_WORKERS, TransferPhase

_LINE_EVERY = 2.0  # seconds between two progress lines when stderr is not a terminal
# The command's own words where the screen's would not help (no form: the state, the keyring).
_CLI_KEYS = {Refusal.NO_SECRET: "cli.transfer.no_secret"}


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
    with opened_project(cat, folder, actor) as project:
        return _Transfer(cat, project, secrets or SecretStore(), part_size, workers).run()


class _Transfer:
    """Parses nothing, decides nothing: runs `flows.transfer` and prints what it says."""

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
        self.printer = _Printer(cat)
        self.ctx = FlowContext(
            ProjectStore(project), project.release.actor, lambda: datetime.now(UTC)
        )

    def fail(self, message: str) -> int:
        self.printer.end_line()
        print(f"hdh-wizard: {message}", file=sys.stderr)
        return 1

    def run(self) -> int:
        cat = self.cat
        config = storage_details(transfer_of(self.ctx.release))
        secret = None
        if config is not None and not config.problems():
            secret = self.secrets.get(SecretKind.STORAGE_SECRET, config.secret_url)
        events = TransferEvents(
            started=self.say_target, progress=self.printer.progress, checked=self.printer.checked
        )
        try:
            with self.interruptible():
                result = flow.transfer(
                    self.ctx,
                    self.project.folder,
                    config,
                    secret,
                    events=events,
                    part_size=self.part_size,
                    workers=self.workers,
                )
        except StorageError as error:
            return self.fail(describe(error, cat))
        except HdhWizardError as error:
            return self.fail(error.message(cat))
        if isinstance(result, Refused):
            key = _CLI_KEYS.get(result.reason)
            refused = replace(result, key=key) if key else result
            return self.fail(refused.message(cat, printable))
        if isinstance(result, AlreadyHosted):
            print(cat.t("cli.transfer.already_done", count=len(result.checks)))
            return 0
        self.printer.end_line()
        if not result.ok:
            return self.fail(cat.t("hosting.not_verified", count=len(result.failed)))
        print(cat.t("cli.transfer.done", count=len(result.checks)))
        self.say_public_access(result.record)
        return self.commit(result.record)

    def say_target(self, plan: Plan) -> None:
        clean = plan.config.normalized()
        print(
            self.cat.t(
                "cli.transfer.target",
                endpoint=clean.endpoint_url,
                bucket=clean.bucket,
                prefix=clean.prefix,
                count=len(plan.files),
                size=format_size(plan.size, self.cat.lang),
            ),
            file=sys.stderr,
        )

    def say_public_access(self, record: TransferRecord) -> None:
        closed = flow.closed_to_public(record.objects)
        if not closed:
            print(self.cat.t("hosting.public.all_open", count=len(record.objects)))
            return
        print(self.cat.t("hosting.public.some_closed", count=len(closed)), file=sys.stderr)
        for hosted, check in closed:
            print("  " + check.message(self.cat, printable(hosted.path)), file=sys.stderr)

    def commit(self, record: TransferRecord) -> int:
        try:
            flow.commit(self.ctx, record)
        except NeedsStaff:
            print(self.cat.t("cli.transfer.needs_staff"))
            return 0
        except HdhWizardError as error:
            print(self.cat.t("cli.transfer.not_committed", reason=error.message(self.cat)))
            return 1
        print(self.cat.t("cli.transfer.committed", name=self.ctx.actor.name))
        return 0

    def interruptible(self) -> AbstractContextManager[None]:
        """Ctrl+C (or SIGTERM) asks the transfer to stop after the parts under way, which are
        then recorded; a second Ctrl+C stops at once (the next run still resumes)."""

        def cancel() -> None:
            self.ctx.cancel.set()
            self.printer.end_line()
            print(self.cat.t("cli.transfer.interrupting"), file=sys.stderr)

        return cancel_on_interrupt(self.ctx.cancel.is_set, cancel)


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
            path=printable(report.path),
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
            shown = printable(check.path)
            print(self.cat.t("cli.transfer.file_done", path=shown, url=check.url), flush=True)
        else:
            problems = " ".join(self.cat.t(p) for p in check.check.problems)
            print(
                self.cat.t("cli.transfer.file_bad", path=printable(check.path), problems=problems),
                flush=True,
            )

    def end_line(self) -> None:
        if self.pending:
            print(file=sys.stderr)
            self.pending = False
