"""The storage secret where no system keyring can keep it (a server without a desktop): the
share screen, where the secret is typed, says once that it must be typed again after each
restart and names the HDH_WIZARD_STORAGE_SECRET alternative; a secret given by that variable
is said to come from it. Against the local S3 server."""

from __future__ import annotations

from pathlib import Path

import keyring.backends.fail
from textual.widgets import Button

from hdh_wizard.services.datagouv.session import PortalSession
from hdh_wizard.services.secrets import SecretStore
from hdh_wizard.ui.steps.share_with_hdh import ShareWithHdhStepScreen
from tests.s3_local import ANY_SECRET
from tests.storage_helpers import (
    SHARE_POLL,
    SHARE_SIZE,
    fill,
    hosted_project,
    open_share,
    project_with_details,
    text_of,
)
from tests.tui_helpers import make_app, until

RESTART = "il faudra la saisir de nouveau après chaque redémarrage"


def connection_result(screen: ShareWithHdhStepScreen) -> str:
    """What the connection test said, under its button."""
    return text_of(screen, "#storage-test-result")


def no_keyring(environ: dict[str, str] | None = None) -> PortalSession:
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    return PortalSession(SecretStore(environ=environ or {}, backend=backend))


async def test_without_a_keyring_the_secret_is_said_to_be_asked_again_after_a_restart(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    hosted_project(tmp_path)
    app = make_app(tmp_path, portal=no_keyring())
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        said = text_of(screen, "#hosting-keyring")
        assert RESTART in said and "HDH_WIZARD_STORAGE_SECRET" in said
        fill(screen, s3_server, bucket, ANY_SECRET)
        screen.query_one("#storage-test", Button).press()
        await pilot.pause()
        await until(pilot, lambda: screen.connection is not None, every=SHARE_POLL)
        assert "Connexion réussie" in connection_result(screen)
        said = text_of(screen, "#hosting-keyring")
        assert said.count("redémarrage") == 1  # said once, the secret now known
        assert "cette session seulement" in said

    # The next start: the secret is gone, and the screen says so again.
    again = make_app(tmp_path, portal=no_keyring())
    async with again.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(again, pilot)
        assert screen.known is None and not screen.secret()
        assert RESTART in text_of(screen, "#hosting-keyring")


async def test_a_secret_from_the_environment_is_said_to_come_from_it(tmp_path: Path) -> None:
    project_with_details(tmp_path, "http://127.0.0.1:9", "seau")  # never reached
    app = make_app(tmp_path, portal=no_keyring({"HDH_WIZARD_STORAGE_SECRET": ANY_SECRET}))
    async with app.run_test(size=SHARE_SIZE) as pilot:
        screen = await open_share(app, pilot)
        await until(pilot, lambda: screen.known is not None, every=SHARE_POLL)
        said = text_of(screen, "#hosting-keyring")
        assert "vient de la variable d'environnement HDH_WIZARD_STORAGE_SECRET" in said
        assert RESTART not in said
