"""The Textual application: wires the screens together and commits what they return.

It holds the open project and the lock on it; the steps' logic lives in `core`, each screen in
its own module. Errors users can cause are shown here, in one place (`show_error`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.widgets import Input
from textual.worker import WorkerFailed

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.lock import ProjectLock
from hdh_wizard.core.release import Person, Release
from hdh_wizard.core.steps import StepId
from hdh_wizard.crash import CRASH_EXIT_CODE, write_crash_report
from hdh_wizard.errors import HdhWizardError, StateFileError
from hdh_wizard.flows.dossier import save_release
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.inspect.fingerprint import resolve_data_path
from hdh_wizard.present.presenters import restored_message, resume_lines, step_list
from hdh_wizard.project import Project, ResumeReport
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.secrets import SecretStore
from hdh_wizard.ui.cancelling import DaemonExecutor
from hdh_wizard.ui.screens.dialogs import ConfirmDialog, LeaveDialog, ReasonDialog
from hdh_wizard.ui.screens.dictionary import DictionaryScreen
from hdh_wizard.ui.screens.files import FilesScreen
from hdh_wizard.ui.screens.help import HelpScreen
from hdh_wizard.ui.screens.home import HomeScreen
from hdh_wizard.ui.screens.identity import IdentityDialog
from hdh_wizard.ui.screens.new_project import NewProjectRequest, NewProjectScreen
from hdh_wizard.ui.screens.state_error import StateErrorScreen
from hdh_wizard.ui.screens.target import TargetChoice, TargetDialog
from hdh_wizard.ui.steps.base import StepScreen
from hdh_wizard.ui.steps.registry import step_screen

Clock = Callable[[], datetime]
PORTAL_WORK = (
    "deposit",
    "portal",
    "hosting",
)  # worker groups writing to data.gouv.fr or HDH storage
STYLES = Path(__file__).parent / "styles"


def utc_now() -> datetime:
    return datetime.now(UTC)


class HdhWizardApp(App[None]):
    TITLE = "hdh-wizard"
    CSS_PATH = [
        STYLES / "app.tcss",
        STYLES / "home.tcss",
        STYLES / "step.tcss",
        STYLES / "dialogs.tcss",
        STYLES / "prepare.tcss",
        STYLES / "hosting.tcss",
        STYLES / "references.tcss",
    ]
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q", "quit", show=False),
        # Priority: the focus moves as soon as Tab is read, so that keys typed ahead of the
        # screen go to the next field; otherwise Tab reaches the screen's binding only after the
        # field has taken the keys behind it (a burst put four values into one field).
        Binding("tab", "focus_next", show=False, priority=True),
        Binding("shift+tab", "focus_previous", show=False, priority=True),
    ]

    def __init__(
        self,
        folder: Path,
        cat: Catalogue,
        *,
        lock: ProjectLock | None = None,
        actor: Person | None = None,
        clock: Clock = utc_now,
        portal: PortalSession | None = None,
        detach_workers: bool = False,
    ) -> None:
        """`actor`: who is at the keyboard, given on the command line (then never asked);
        `detach_workers`: run thread workers on daemon threads, so that quitting never waits
        for work that has not reached its next cancel point (`cli/tui.py`)."""
        super().__init__()
        self.workers_executor: DaemonExecutor | None = DaemonExecutor() if detach_workers else None
        self._portal = portal
        # The TUI's own wording where a message has one (buttons, not command-line options).
        self.cat = cat.on_screens()
        self.folder = folder
        self._lock = lock
        self._actor = actor
        self._clock = clock
        self._project: Project | None = None
        self.crashed = False
        self.crash_report: Path | None = None

    # --- what the screens use ------------------------------------------------------------------

    @property
    def project(self) -> Project:
        assert self._project is not None, "no project open"
        return self._project

    @property
    def actor(self) -> Person:
        return self._actor or self.project.release.actor

    def now(self) -> datetime:
        return self._clock()

    @property
    def portal(self) -> PortalSession:
        """The link to data.gouv.fr (API key lookup, clients), made on first use."""
        if self._portal is None:
            self._portal = PortalSession(SecretStore())
        return self._portal

    def apply(self, change: Callable[[Release], Release]) -> bool:
        """Run a model change and save it; on refusal, say why and keep the old state. A step
        committed, skipped or reopened refreshes the release dossier (`flows.dossier`)."""
        try:
            save_release(self.project, change(self.project.release), self.cat, self.show_error)
        except HdhWizardError as error:
            self.show_error(error)
            return False
        return True

    def show_error(self, error: HdhWizardError) -> None:
        self.notify(  # not markup: messages quote paths and values, which may hold `[/]`
            error.message(self.cat),
            title=self.cat.t("error.title"),
            severity="error",
            timeout=10,
            markup=False,
        )

    def open_step(self, step_id: StepId) -> None:
        screen: StepScreen = step_screen(step_id)
        self.push_screen(screen)

    async def action_quit(self) -> None:
        """Quitting with typed work on a step asks what to do with it (save the draft, discard,
        stay); quitting while data.gouv.fr is being written to could lose what it just made (a
        dataset's id): ask first."""
        if isinstance(self.screen, (LeaveDialog, ConfirmDialog)):  # an answer is awaited
            return
        if isinstance(self.screen, NewProjectScreen):
            self.screen.leave(self.exit)
            return
        # Each open screen that holds typed work asks in turn, the top one first (the data
        # dictionary over the deposit's step, then the step itself).
        then: Callable[[], None] = self._quit_unless_sending
        for screen in self.screen_stack:
            if isinstance(screen, (StepScreen, DictionaryScreen)):
                then = partial(screen.leave, then)
        then()

    def _quit_unless_sending(self) -> None:
        busy = [w for w in self.workers if w.group in PORTAL_WORK and w.is_running]
        if not busy:
            self.exit()
            return
        self.confirm(self.cat.t("app.quit_while_sending"), self.exit)

    def show_help(self, topic: str) -> None:
        self.push_screen(HelpScreen(topic))

    def confirm(self, question: str, then: Callable[[], None]) -> None:
        self.push_screen(ConfirmDialog(question), lambda yes: then() if yes else None)

    def ask_reason(self, question: str, then: Callable[[str], None]) -> None:
        self.push_screen(ReasonDialog(question), lambda why: then(why) if why else None)

    def choose_identity(self, *, resuming: bool = False) -> None:
        """Who is at the keyboard. On resume, the last person is offered, and the last one of
        the other role one key away."""

        def chosen(person: Person | None) -> None:
            if person is not None:
                self._actor = person
                self.apply(lambda release: workflow.set_actor(release, person))
                self._refresh_home()

        last = self.actor
        if not resuming:
            self.push_screen(IdentityDialog(last), chosen)
            return
        other = workflow.last_of_other_role(self.project.release)
        question = self.cat.t(
            "resume.identity_title", name=last.name, role=self.cat.t(f"role.{last.role.value}")
        )
        self.push_screen(IdentityDialog(last, other=other, question=question), chosen)

    def _ask_identity_on_resume(self) -> None:
        """The last actor may not be the one at the keyboard now (`identity_in_doubt`). Not
        when the command line said who it is."""
        if self._actor is None and workflow.identity_in_doubt(self.project.release):
            self.choose_identity(resuming=True)

    def choose_target(self) -> None:
        def chosen(choice: TargetChoice | None) -> None:
            if choice is None:
                return
            self.apply(
                lambda release: workflow.set_target(
                    release,
                    choice.environment,
                    self.actor,
                    self.now(),
                    url=choice.url,
                    confirmed=choice.confirmed,
                )
            )
            self._refresh_home()

        self.push_screen(TargetDialog(self.project.release.target), chosen)

    def edit_files(self) -> None:
        folder = self.project.folder
        current = [resolve_data_path(f, folder) for f in self.project.release.files]

        def chosen(paths: list[Path] | None) -> None:
            if paths is None:
                return
            try:
                files = projects.describe_paths(paths, folder)
            except HdhWizardError as error:
                self.show_error(error)
                return
            stale: tuple[StepId, ...] = ()

            def change(release: Release) -> Release:
                nonlocal stale
                release, stale = workflow.set_files(release, files, self.actor, self.now())
                return release

            if self.apply(change) and stale:
                self.notify(
                    self.cat.t("files.now_stale", steps=step_list(self.cat, stale)),
                    severity="warning",
                    timeout=10,
                )
            self._refresh_home()

        self.push_screen(FilesScreen(folder, current), chosen)

    # --- crashes --------------------------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Every crash of the app comes here (a screen, an action, a worker, a callback): the
        report is written at once, with no secret and no local variable in it, and the app
        exits without showing Textual's traceback (which shows local variables: typed keys).

        `run_tui` then says where the report is and exits with `CRASH_EXIT_CODE`.
        """
        if not self.crashed:
            self.crashed = True
            # A worker's failure wraps the real exception, which has the traceback.
            cause = error.error if isinstance(error, WorkerFailed) else error
            self.crash_report = write_crash_report(cause, self._typed_secrets())
        self._return_code = CRASH_EXIT_CODE
        if self._exception is None:  # Pilot re-raises it at the end of a test
            self._exception = error
            self._exception_event.set()
        self.panic()

    def _typed_secrets(self) -> set[str]:
        """What is in the hidden fields (API key, storage secret) of every open screen: a key
        being verified is in no store yet."""
        found: set[str] = set()
        try:
            for screen in self.screen_stack:
                found.update(i.value for i in screen.query(Input) if i.password and i.value)
        except Exception:  # the crash may have left the DOM half built: redact what was found
            pass
        return found

    # --- start-up ------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        if self.workers_executor is not None:  # before any worker: the loop makes it lazily
            asyncio.get_running_loop().set_default_executor(self.workers_executor)
        if projects.has_project(self.folder):
            self._open()
        else:
            self.push_screen(NewProjectScreen(self.folder), self._new_project_closed)

    def _open(self) -> None:
        try:
            project, report = projects.open_project(self.folder, self._actor, self.now())
        except StateFileError as error:
            self.push_screen(StateErrorScreen(error), self._state_error_answered)
            return
        except HdhWizardError as error:
            self.show_error(error)
            return
        self._project = project
        self._show_home()
        self._announce(report)
        self._ask_identity_on_resume()

    def _state_error_answered(self, restore: bool | None) -> None:
        if not restore:
            self.exit(return_code=1)  # the project could not be opened: not a success
            return
        try:
            kept = projects.restore_project_backup(self.folder, self.now())
        except HdhWizardError as error:
            self.show_error(error)
            self.exit(return_code=1)
            return
        self.notify(restored_message(self.cat, kept), timeout=10, markup=False)  # a path
        self._open()

    def create_project(self, request: NewProjectRequest) -> bool:
        """Create the project the new project form asks for; False (and why) on refusal."""
        try:
            self._relock(request.folder)
            project = projects.create_project(
                request.folder, request.name, request.actor, request.data_paths, self.now()
            )
        except HdhWizardError as error:
            self.show_error(error)
            return False
        self.folder = request.folder
        self._actor = request.actor
        self._project = project
        return True

    def _new_project_closed(self, _: None) -> None:
        if self._project is None:
            self.exit()  # the user chose not to create a project: nothing failed
        else:
            self._show_home()

    def _relock(self, folder: Path) -> None:
        """Hold the lock of the folder actually chosen in the new project form."""
        if self._lock is not None and self._lock.folder.resolve() == folder.resolve():
            return
        projects.ensure_folder(folder)
        new_lock = projects.acquire_lock(folder)
        if self._lock is not None:
            self._lock.release()
        self._lock = new_lock

    def _show_home(self) -> None:
        self.push_screen(HomeScreen())

    def _refresh_home(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.show_release()

    def _announce(self, report: ResumeReport) -> None:
        if not report.needs_attention:
            return
        message = "\n".join(resume_lines(self.cat, report))
        self.notify(  # not markup: the changed files' names
            message, title=self.cat.t("resume.title"), severity="warning", timeout=20, markup=False
        )

    def on_unmount(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
