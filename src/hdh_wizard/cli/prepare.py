"""`hdh-wizard prepare [DIR]`: the data of a hosted release (route 2) prepared headless, as the
"prepare the data" screen does: a table split on a column (`--split`), its sample drawn
(`--sample`), a folder's files grouped by a mapping table (`--slides`), then the step committed
(`--commit`). The sequence is the screen's (`flows.prepare`): each operation writes into a
staging folder, moves its results into `publish/` and is recorded in the state at once; a
finished step whose files change is reopened. Ctrl+C (or SIGTERM) stops the reading before
anything is installed.

Exit 0 once done, 1 when something needs a person first (the message says what), 2 on a usage
error.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hdh_wizard.cli.interrupt import cancel_on_interrupt
from hdh_wizard.cli.opened import opened_project
from hdh_wizard.core.preparation import (
    new_seed,
    parse_sample_request,
    parse_seed,
    parse_threshold,
)
from hdh_wizard.core.release import Person
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows import prepare as flow
from hdh_wizard.flows.port import FlowContext, ProjectStore
from hdh_wizard.flows.prepare import NotReady, Run
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.i18n.formatting import format_count, format_size
from hdh_wizard.inspect.preparation import Choices
from hdh_wizard.inspect.progress import Cancelled, Progress
from hdh_wizard.present.presenters import printable

_LINE_EVERY = 2.0  # seconds between two progress lines


@dataclass(frozen=True)
class PrepareRequest:
    """What the command line asks, as typed (checked and read by `run_prepare`)."""

    split: str | None = None
    column: str | None = None
    group_below: str | None = None
    sample: str | None = None
    size: str | None = None
    fraction: str | None = None
    seed: str | None = None
    stratify: bool = False
    slides: str | None = None
    mapping: str | None = None
    file_column: str | None = None
    value_column: str | None = None
    commit: bool = False

    def usage_problem(self, cat: Catalogue) -> str:
        """The first option missing its companion, or nothing asked at all ("" if none)."""
        needs = [
            (self.split is not None and self.column is None, "--split", "--column"),
            (self.stratify and self.column is None, "--stratify", "--column"),
            (self.stratify and self.sample is None, "--stratify", "--sample"),
            (self.slides is not None and self.mapping is None, "--slides", "--mapping"),
            (self.slides is not None and self.file_column is None, "--slides", "--file-column"),
            (self.slides is not None and self.value_column is None, "--slides", "--value-column"),
        ]
        for missing, option, needed in needs:
            if missing:
                return cat.t("cli.prepare.needs", option=option, needed=needed)
        if not (self.split or self.sample or self.slides or self.commit):
            return cat.t("cli.prepare.nothing")
        return ""


def run_prepare(
    cat: Catalogue, folder: Path, request: PrepareRequest, *, actor: Person | None = None
) -> int:
    """`actor`: who prepares (default: whoever last worked on the release)."""
    problem = request.usage_problem(cat)
    if not problem:
        try:  # the values typed, read before anything is opened
            threshold = parse_threshold(request.group_below or "")
            size, fraction = (
                parse_sample_request(request.size or "", request.fraction or "")
                if request.sample is not None
                else (None, None)
            )
            seed = parse_seed(request.seed) if request.seed else new_seed()
        except HdhWizardError as error:
            problem = error.message(cat)
    if problem:
        print(f"hdh-wizard prepare: {cat.t('cli.usage_error')} {problem}", file=sys.stderr)
        return 2
    with opened_project(cat, folder, actor) as project:
        ctx = FlowContext(ProjectStore(project), project.release.actor, lambda: datetime.now(UTC))
        work = _Prepare(cat, ctx, project.folder)
        return work.run(request, threshold, size, fraction, seed)


class _Prepare:
    def __init__(self, cat: Catalogue, ctx: FlowContext, folder: Path) -> None:
        self.cat = cat
        self.ctx = ctx
        self.folder = folder
        self.progress = Progress()
        self.reopened = False

    def fail(self, message: str) -> int:
        print(f"hdh-wizard: {message}", file=sys.stderr)
        return 1

    def run(
        self,
        request: PrepareRequest,
        threshold: int | None,
        size: int | None,
        fraction: float | None,
        seed: int,
    ) -> int:
        cat = self.cat
        try:
            with self.interruptible(), self.ticking():
                found = flow.published(self.ctx.release, self.folder)
                if request.split is not None and request.column is not None:
                    self.split(found, request.split, request.column, threshold)
                if request.sample is not None:
                    self.sample(found, request, size, fraction, seed)
                if request.slides is not None:
                    self.slides(found, request)
        except Cancelled:
            return self.fail(cat.t("prepare.screen.cancelled"))
        except HdhWizardError as error:
            return self.fail(error.message(cat))
        except OSError as error:
            return self.fail(flow.disk_error(error).message(cat))
        if self.reopened:
            print(cat.t("cli.prepare.reopened"))
        if request.commit:
            return self.commit()
        return 0

    def split(self, found: Choices, name: str, column: str, threshold: int | None) -> None:
        table = flow.find(found.tables, name)
        index = flow.column_index(table, column)
        self.progress.current = table.stored
        before = flow.recorded(self.ctx.release)
        run = flow.split(
            self.ctx,
            self.folder,
            before,
            table,
            index,
            threshold,
            self.progress,
            tables=found.tables,
        )
        self.done(run)
        record = run.preparation.table(table.stored).split
        files = run.preparation.split_files(table.stored)
        if record is not None:
            print(
                self.cat.t(
                    "prepare.screen.split_done",
                    files=len(files),
                    column=record.column,
                    written=format_count(sum(f.rows or 0 for f in files)),
                    rows=format_count(record.source_rows),
                )
            )
        for file in files:
            self.say_file(file.path, file.size)

    def sample(
        self,
        found: Choices,
        request: PrepareRequest,
        size: int | None,
        fraction: float | None,
        seed: int,
    ) -> None:
        assert request.sample is not None
        table = flow.find(found.tables, request.sample)
        stratify = (
            flow.column_index(table, request.column)
            if request.stratify and request.column is not None
            else None
        )
        self.progress.current = table.stored
        run = flow.sample(
            self.ctx,
            self.folder,
            flow.recorded(self.ctx.release),
            table,
            size=size,
            fraction=fraction,
            seed=seed,
            stratify_column=stratify,
            progress=self.progress,
            tables=found.tables,
        )
        self.done(run)
        settings = run.preparation.table(table.stored).sample
        file = run.preparation.sample_file(table.stored)
        if settings is None or file is None:
            return
        asked = (
            self.cat.t("prepare.screen.asked_size", size=format_count(settings.size))
            if settings.size is not None
            else self.cat.t("prepare.screen.asked_fraction", fraction=f"{settings.fraction:g}")
        )
        print(self.cat.t("cli.prepare.sample_file", path=printable(file.path)))
        print(
            self.cat.t(
                "prepare.screen.sample_done",
                rows=format_count(settings.rows),
                total=format_count(settings.source_rows),
                asked=asked,
                seed=settings.seed,
            )
        )

    def slides(self, found: Choices, request: PrepareRequest) -> None:
        assert request.slides is not None and request.mapping is not None
        assert request.file_column is not None and request.value_column is not None
        source = flow.find(found.folders, request.slides)
        mapping = flow.find(found.tables, request.mapping)
        file_column = flow.column_index(mapping, request.file_column)
        value_column = flow.column_index(mapping, request.value_column)
        self.progress.current = source.stored
        run = flow.split_folder(
            self.ctx,
            self.folder,
            flow.recorded(self.ctx.release),
            source,
            mapping,
            file_column,
            value_column,
            self.progress,
            folders=found.folders,
        )
        self.done(run)
        saved = run.preparation.folder_split(source.stored)
        if saved is None:
            return
        print(
            self.cat.t(
                "prepare.screen.folder_done",
                placed=saved.placed,
                output=printable(saved.output),
                column=saved.value_column,
            )
        )
        for file in run.preparation.folder_files(saved.output):
            self.say_file(file.path + "/", file.size)
        for key in ("missing", "unlisted", "ambiguous", "conflicting", "refused"):
            count = getattr(saved, key)
            if count:
                print(self.cat.t(f"prepare.screen.folder_{key}", count=count), file=sys.stderr)

    def done(self, run: Run) -> None:
        self.reopened = self.reopened or run.reopened
        self.progress.total_bytes = self.progress.done_bytes = 0  # the next operation's

    def say_file(self, path: str, size: int) -> None:
        shown = format_size(size, self.cat.lang)
        print(self.cat.t("cli.prepare.file", path=printable(path), size=shown))

    def commit(self) -> int:
        cat = self.cat
        try:
            flow.commit(self.ctx, self.folder, flow.recorded(self.ctx.release))
        except NotReady as refused:
            lines = [cat.t("step.not_ready")]
            lines += ["  " + cat.t(c.key, **c.params) for c in refused.failed]
            return self.fail("\n".join(lines))
        except HdhWizardError as error:
            return self.fail(error.message(cat))
        title = cat.t(f"step.{flow.STEP.value}.title")
        print(cat.t("step.committed", step=title))
        return 0

    @contextmanager
    def ticking(self) -> Iterator[None]:
        """A line on stderr every few seconds: the file read and how far."""
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(_LINE_EVERY):
                progress = self.progress
                line = self.cat.t("prepare.screen.working", file=printable(progress.current))
                if progress.total_bytes:
                    done = min(progress.done_bytes, progress.total_bytes)
                    line += f" ({done * 100 // progress.total_bytes} %)"
                print(line, file=sys.stderr, flush=True)

        ticker = threading.Thread(target=tick, name="hdh-prepare-progress", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()

    def interruptible(self) -> AbstractContextManager[None]:
        """Ctrl+C (or SIGTERM) cancels the operation under way, before it installs anything;
        a second Ctrl+C stops at once (the staging folder is removed by the next run)."""

        def cancel() -> None:
            self.progress.cancel()
            print(self.cat.t("cli.prepare.interrupting"), file=sys.stderr)

        return cancel_on_interrupt(lambda: self.progress.cancelled, cancel)
