"""`hdh-wizard publish [DIR] [--yes]`: the remaining data.gouv.fr steps, for scripts and staff.

Exit 0 once the dataset is published (and seen public on the server), 1 when something needs a
person first (the message says what), 2 on a usage error.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from hdh_wizard.cli.opened import opened_project
from hdh_wizard.core.deposit_plan import LocalFile
from hdh_wizard.core.release import Person
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.flows.port import FlowContext, ProjectStore
from hdh_wizard.flows.publish_all import PublishAll, Said
from hdh_wizard.i18n.catalogue import Catalogue
from hdh_wizard.present.portal_presenters import progress_text, resource_description
from hdh_wizard.present.presenters import printable
from hdh_wizard.services.datagouv.deposit import DepositEvent
from hdh_wizard.services.datagouv.references import ReferenceAction, ReferenceEvent
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.datagouv.upload import FileDigests
from hdh_wizard.services.secrets import SecretStore


def run_publish(
    cat: Catalogue,
    folder: Path,
    *,
    yes: bool,
    portal: PortalSession | None = None,
    chunk_size: int | None = None,
    actor: Person | None = None,
) -> int:
    """`actor`: who runs the command (default: whoever last worked on the release); the
    references of route 2 are made by HDH staff only."""
    # The actor runs the flows; the release keeps whoever last worked on it.
    with opened_project(cat, folder) as project:
        printer = _Printer(cat)

        def describe_file(local: LocalFile, digests: FileDigests) -> str:
            return resource_description(local, digests)

        context = FlowContext(
            store=ProjectStore(project),
            actor=actor or project.release.actor,
            now=lambda: datetime.now(UTC),
        )
        publisher = PublishAll(
            ctx=context,
            portal=portal or PortalSession(SecretStore()),
            folder=folder,
            describe=describe_file,
            confirm_production=lambda host: yes or _ask(cat, host),
            say=printer.say,
            on_event=printer.event,
            on_reference=printer.reference,
            chunk_size=chunk_size,
        )
        print(cat.t("publish.target", site=project.release.target.url), file=sys.stderr)
        try:
            publisher.run()
        except HdhWizardError as error:
            printer.end_line()
            print(f"hdh-wizard: {error.message(cat)}", file=sys.stderr)
            for key, params in getattr(error, "details", ()):
                print(f"  • {cat.t(key, **params)}", file=sys.stderr)
            return 1
        except OSError as error:
            printer.end_line()
            detail = cat.t(
                "deposit.error.read", path=str(error.filename or ""), detail=error.strerror or ""
            )
            print(f"hdh-wizard: {detail}", file=sys.stderr)
            return 1
        return 0


def _ask(cat: Catalogue, host: str) -> bool:
    """Without --yes, a first publication in production needs the host typed on a terminal."""
    if not sys.stdin.isatty():
        return False
    try:
        answer = input(cat.t("publish.confirm_production", host=host) + " ")
    except EOFError:
        return False
    return answer.strip() == host


class _Printer:
    """Results on stdout, progress on stderr (one line rewritten in a terminal)."""

    def __init__(self, cat: Catalogue) -> None:
        self.cat = cat
        self.live = sys.stderr.isatty()
        self.pending = False

    def say(self, said: Said) -> None:
        self.end_line()
        print(self.cat.t(said.key, **said.params))

    def event(self, event: DepositEvent) -> None:
        if event.kind == "uploading" and self.live:
            line = printable(progress_text(self.cat, event))  # it names the file sent
            print("\r\033[K" + line, end="", file=sys.stderr)
            self.pending = True
        elif event.kind == "file_done":
            self.end_line()
            print(self.cat.t("publish.file_done", path=printable(event.path)), file=sys.stderr)

    def reference(self, event: ReferenceEvent) -> None:
        """Each resource made, changed or removed; those left as they were go unsaid."""
        if event.kind == "file_done" and event.action is not ReferenceAction.KEEP:
            action = event.action.value if event.action else "create"
            print(
                self.cat.t(f"publish.reference.{action}", path=printable(event.path)),
                file=sys.stderr,
            )
        elif event.kind == "deleted":
            print(
                self.cat.t("publish.reference.delete", path=printable(event.path)),
                file=sys.stderr,
            )
        elif event.kind == "duplicate_removed":
            print(self.cat.t("publish.reference.duplicate", id=event.path), file=sys.stderr)

    def end_line(self) -> None:
        if self.pending:
            print(file=sys.stderr)
            self.pending = False
