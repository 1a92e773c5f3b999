"""The wizard's link to data.gouv.fr for one run: where the API key comes from, and clients.

The key is looked up for the release's target (demo, production or another udata portal): the
environment variable first, then the key typed this session, then the keyring. The screens and
the `publish` command both go through this, so they find the key the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hdh_wizard.errors import HdhWizardError
from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.secrets import KeySource, Secret, SecretKind, SecretStore

ClientFactory = Callable[[str, str | None], DataGouvClient]


class MissingKey(HdhWizardError):
    """No API key is known for this portal: the account step asks for one."""

    key = "portal.no_key"

    def __init__(self, site: str) -> None:
        super().__init__(site=site)
        self.site = site


def default_client(site: str, api_key: str | None) -> DataGouvClient:
    return DataGouvClient(site, api_key)


@dataclass
class PortalSession:
    secrets: SecretStore
    make_client: ClientFactory = default_client
    chunk_size: int | None = None  # None: the client's default (tests use small chunks)

    def key(self, site: str) -> Secret | None:
        return self.secrets.get(SecretKind.API_KEY, site)

    def client(self, site: str) -> DataGouvClient:
        """A client with the stored key; `MissingKey` when there is none."""
        secret = self.key(site)
        if secret is None:
            raise MissingKey(site)
        return self.make_client(site, secret.value)

    def anonymous(self, site: str) -> DataGouvClient:
        """For public lists (licences, zones…) before the key is given."""
        return self.make_client(site, None)

    def trial(self, site: str, api_key: str) -> DataGouvClient:
        """A client with a key being verified, not yet stored."""
        return self.make_client(site, api_key)

    def remember(self, site: str, api_key: str, *, keep: bool) -> KeySource:
        """Store a verified key: in the keyring when `keep` and one exists, else for this run."""
        return self.secrets.save(SecretKind.API_KEY, site, api_key, remember=keep)

    def forget(self, site: str) -> bool:
        return self.secrets.forget(SecretKind.API_KEY, site)
