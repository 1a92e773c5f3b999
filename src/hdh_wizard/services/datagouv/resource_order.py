"""The order of the resources on a dataset page: the main tables first, then the sample, then
the images, then the documentation.

udata puts each new resource first, so the order the files were sent in is not the order the
page shows (route 1 showed the main table after the slides). After each deposit or each run of
the references, the page is put back in this order with udata's reorder call (PUT
/datasets/{id}/resources/ with every resource's id), and only when it differs: a re-run that
changes nothing sends nothing. Resources the wizard did not make (added by hand on the page)
follow the wizard's, in the order they had.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from hdh_wizard.services.datagouv.client import DataGouvClient

# Formats of pictures (slides, scans): shown after the tables and the sample.
IMAGE_FORMATS = frozenset(
    {"tiff", "tif", "png", "jpg", "jpeg", "jp2", "svs", "ndpi", "scn", "mrxs", "bmp", "gif", "dcm"}
)


class ResourceGroup(IntEnum):
    """Where a resource stands on the page, first to last."""

    TABLE = 0  # the data: a whole table or a part of a split one (any non-image data file)
    SAMPLE = 1
    IMAGE = 2
    DOCUMENTATION = 3


def resource_group(format: str, *, documentation: bool, sample: bool = False) -> ResourceGroup:
    if documentation:
        return ResourceGroup.DOCUMENTATION
    if sample:
        return ResourceGroup.SAMPLE
    if format.strip().lower().lstrip(".") in IMAGE_FORMATS:
        return ResourceGroup.IMAGE
    return ResourceGroup.TABLE


@dataclass(frozen=True)
class OrderedResource:
    """One of the wizard's resources: its group, then its rank within the group."""

    resource_id: str
    group: ResourceGroup
    rank: int = 0


def wanted_order(ours: Sequence[OrderedResource], on_server: Sequence[str]) -> list[str]:
    """Every id the server holds, the wizard's in their order first (a stable sort: within a
    group, by rank), then the others as they were."""
    present = set(on_server)
    mine = [
        r.resource_id
        for r in sorted(ours, key=lambda r: (r.group, r.rank))
        if r.resource_id in present
    ]
    seen = set(mine)
    unique = list(dict.fromkeys(mine))
    return unique + [rid for rid in on_server if rid not in seen]


def server_ids(dataset: Mapping[str, Any]) -> list[str]:
    resources = dataset.get("resources")
    if not isinstance(resources, list):
        return []
    return [
        str(r["id"]) for r in resources if isinstance(r, Mapping) and isinstance(r.get("id"), str)
    ]


def put_in_order(client: DataGouvClient, dataset_id: str, ours: Sequence[OrderedResource]) -> bool:
    """Reorder the page if it is not in the wanted order; True if a change was sent."""
    current = server_ids(client.dataset(dataset_id))
    wanted = wanted_order(ours, current)
    if wanted == current:
        return False
    client.reorder_resources(dataset_id, wanted)
    return True
