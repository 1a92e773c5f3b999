"""`hdh-wizard publish` says exactly which variable is missing for a portal of its own."""

from __future__ import annotations

from pathlib import Path

import keyring.backends.fail
import pytest

from hdh_wizard import project as projects
from hdh_wizard.cli.publish import run_publish
from hdh_wizard.core import workflow
from hdh_wizard.core.enums import Environment
from hdh_wizard.i18n.catalogue import Lang, load_catalogue
from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.secrets import SecretStore
from tests.tui_helpers import ALICE, NOW, make_demo_project

CAT = load_catalogue(Lang.FR)
REHEARSAL = "http://127.0.0.1:9"  # a local data.gouv.fr for rehearsal (nothing listens here)


def _portal(environ: dict[str, str]) -> PortalSession:
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    return PortalSession(SecretStore(environ=environ, backend=backend))


def _project(folder: Path) -> Path:
    project = make_demo_project(folder)
    release = workflow.set_target(
        project.release, Environment.CUSTOM, ALICE, NOW, url=REHEARSAL, confirmed=True
    )
    projects.save(project, release)
    return folder


def test_a_key_in_the_environment_for_another_portal_names_the_missing_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _project(tmp_path)
    portal = _portal({"HDH_WIZARD_API_KEY": "udata_" + "k" * 40})
    assert run_publish(CAT, folder, yes=True, portal=portal) == 1
    err = capsys.readouterr().err
    assert f"HDH_WIZARD_API_URL={REHEARSAL}" in err
    assert "k" * 40 not in err


def test_with_the_portal_named_the_key_of_the_environment_is_used() -> None:
    environ = {"HDH_WIZARD_API_KEY": "udata_" + "k" * 40, "HDH_WIZARD_API_URL": REHEARSAL}
    assert _portal(environ).key(REHEARSAL) is not None
    assert not _portal(environ).secrets.env_key_withheld(REHEARSAL)
