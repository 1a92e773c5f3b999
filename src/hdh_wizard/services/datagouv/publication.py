"""Publication: the private draft made public, then read back to be sure it is."""

from __future__ import annotations

from typing import Any

from hdh_wizard.core.portal_records import DatasetRecord
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.services.datagouv.client import DataGouvClient


class PublicationError(HdhWizardError):
    """The server answered, but the dataset is still not public."""


def publish(client: DataGouvClient, record: DatasetRecord) -> dict[str, Any]:
    """Clear `private` (a full PUT that keeps every other field), then check it took."""
    client.publish_dataset(record.dataset_id)
    dataset = client.dataset(record.dataset_id)
    if dataset.get("private") or dataset.get("deleted"):
        raise PublicationError("publication.error.still_private", dataset=record.dataset_id)
    return dataset


def public_page(dataset: dict[str, Any], site: str) -> str:
    """The dataset's address for people: its page, else one built from its slug."""
    page = dataset.get("page")
    if isinstance(page, str) and page:
        return page
    slug = dataset.get("slug") or dataset.get("id")
    return f"{site.rstrip('/')}/datasets/{slug}/"
