"""The metadata quality score of data.gouv.fr, computed here before anything is sent.

Mirrors udata 17.18.0, `udata.core.dataset.models.Dataset`: `compute_quality` (the criteria),
`quality` (update_fulfilled_in_time, time-dependent) and `compute_quality_score` (one point
per criterion met, out of 9), with `Resource.closed_or_no_format` and `check_availability`.
udata is never imported: the rules are reproduced, and `quality_from_server` reads what the
server computed, so the two can be shown side by side and compared.
"""

from __future__ import annotations

import os.path
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hdh_wizard.core.documentation import FREQUENCY_DELTAS, UNKNOWN_FREQUENCY, Documentation

QUALITY_DESCRIPTION_LENGTH = 100  # udata.settings.Defaults: a description must be longer
QUALITY_MAX_SCORE = 9  # Dataset.normalize_score
# udata.core.dataset.constants.CLOSED_FORMATS: any other non-empty format counts as open.
CLOSED_FORMATS = ("pdf", "doc", "docx", "word", "xls", "excel", "xlsx")
# udata.settings.Defaults, read by udata.core.storages.utils.extension for an uploaded file.
ARCHIVE_EXTENSIONS = frozenset({"tar", "gz", "tgz", "rar", "zip", "7z", "xz", "bz2"})
RESOURCE_EXTENSIONS = ARCHIVE_EXTENSIONS | frozenset(
    # One string, as udata's settings list them, rather than 56 lines of literals.
    "csv txt json pdf xml rtf xsd ods odt odp odg xls xlsx doc docx pps ppt jpeg jpg jpe gif png "  # noqa: SIM905
    "dwg svg tiff ecw svgz jp2 webp shp kml kmz gpx shx ovr geojson gpkg grib2 rdf ttl n3 dbf prj "
    "sql sqlite db epub sbn sbx cpg lyr owl dxf ics ssim other".split()
)

# In the order udata's score adds them up.
CRITERIA: tuple[str, ...] = (
    "license",
    "temporal_coverage",
    "spatial",
    "update_frequency",
    "update_fulfilled_in_time",
    "dataset_description_quality",
    "has_open_format",
    "all_resources_available",
    "resources_documentation",
)
RESOURCE_CRITERIA = ("has_open_format", "all_resources_available", "resources_documentation")


@dataclass(frozen=True)
class QualityCriterion:
    name: str  # udata's key in the dataset's `quality`
    ok: bool
    explanation_key: str  # what it means when met, or what to do when not (catalogue)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label_key(self) -> str:
        return f"doc.quality.criterion.{self.name}"


@dataclass(frozen=True)
class Quality:
    """All nine criteria, met or not, and udata's score: the share met, from 0 to 1.

    udata leaves out of its `quality` the criteria it cannot judge yet (the resource ones before
    any file, update_fulfilled_in_time without a frequency); they earn no point there, and are
    listed here as not met, with what to do about them."""

    criteria: tuple[QualityCriterion, ...]
    score: float

    def criterion(self, name: str) -> QualityCriterion:
        return next(c for c in self.criteria if c.name == name)

    @property
    def missing(self) -> tuple[QualityCriterion, ...]:
        return tuple(c for c in self.criteria if not c.ok)


@dataclass(frozen=True)
class ResourcePlan:
    """A resource of the dataset, sent or about to be, as far as the score looks at it."""

    title: str
    format: str = ""
    type: str = "main"  # udata's resource type: main, documentation, update, api, code, other
    description: str = ""
    filetype: str = "file"  # "file" (uploaded) or "remote" (referenced by URL)
    url: str = ""
    # udata's "check:available" extra for a remote resource: None while not checked ("unknown",
    # which udata counts as available). Uploaded files are never checked.
    available: bool | None = None

    @property
    def closed_or_no_format(self) -> bool:
        """udata.core.dataset.models.ResourceMixin.closed_or_no_format."""
        return not self.format or self.format.lower() in CLOSED_FORMATS


def upload_format(filename: str) -> str:
    """The format udata records for an uploaded file (udata.core.storages.utils.extension):
    the last extension, with the archive ones before it ("x.csv.gz" is "csv.gz")."""
    name = os.path.basename(filename.lower())
    extension = ""
    while "." in name:
        name, ext = os.path.splitext(name)
        ext = ext.removeprefix(".")
        if extension and ext not in RESOURCE_EXTENSIONS:
            break
        extension = f"{ext}.{extension}" if extension else ext
        if ext not in ARCHIVE_EXTENSIONS:
            break
    return extension


def planned_resource(
    filename: str, *, resource_type: str = "main", description: str = ""
) -> ResourcePlan:
    """A file about to be uploaded, as the server will describe it."""
    return ResourcePlan(
        title=os.path.basename(filename),
        format=upload_format(filename),
        type=resource_type,
        description=description,
    )


def resource_plans_from_server(dataset_json: Mapping[str, Any]) -> list[ResourcePlan]:
    """The dataset's resources as the server returned them (tolerant of missing fields)."""
    plans = []
    resources = dataset_json.get("resources")
    for item in resources if isinstance(resources, list) else []:
        if not isinstance(item, Mapping):
            continue
        extras = item.get("extras")
        available = extras.get("check:available") if isinstance(extras, Mapping) else None
        plans.append(
            ResourcePlan(
                title=_text(item.get("title")),
                format=_text(item.get("format")),
                type=_text(item.get("type")) or "main",
                description=_text(item.get("description")),
                filetype=_text(item.get("filetype")) or "file",
                url=_text(item.get("url")),
                available=available if isinstance(available, bool) else None,
            )
        )
    return plans


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def update_fulfilled_in_time(frequency: str, last_update: datetime, now: datetime) -> bool | None:
    """Dataset.quality: None when udata leaves the criterion out (no frequency, or "unknown");
    True for a frequency with no regular update; otherwise whether the next update, due
    `delta` after the last one, is at most one day late."""
    if frequency not in FREQUENCY_DELTAS or frequency == UNKNOWN_FREQUENCY:
        return None
    delta = FREQUENCY_DELTAS[frequency]
    if delta is None:
        return True
    next_update = _naive_utc(last_update) + delta
    return (next_update - _naive_utc(now)).days >= -1


def compute_quality(
    doc: Documentation,
    resources: Sequence[ResourcePlan],
    *,
    now: datetime,
    last_update: datetime | None = None,
    known_licenses: Collection[str] | None = None,
) -> Quality:
    """The score the server will compute for `doc` sent by `documentation.dataset_payload`,
    with these resources. `last_update` is when the files last changed (udata takes the newest
    resource's date, or the dataset's when it has none): now, for files being deposited.
    `known_licenses` is the server's list; an id outside it is saved as no licence."""
    met: dict[str, bool | None] = {
        "license": bool(doc.license) and (known_licenses is None or doc.license in known_licenses),
        "temporal_coverage": doc.temporal is not None,
        "spatial": bool(doc.zones) or bool(doc.granularity),
        "update_frequency": doc.frequency in FREQUENCY_DELTAS
        and doc.frequency != UNKNOWN_FREQUENCY,
        "update_fulfilled_in_time": update_fulfilled_in_time(
            doc.frequency, last_update or now, now
        ),
        "dataset_description_quality": len(doc.description) > QUALITY_DESCRIPTION_LENGTH,
    }
    if resources:
        remote = [r for r in resources if r.filetype == "remote"]
        met["has_open_format"] = not all(r.closed_or_no_format for r in resources)
        # Dataset.check_availability: "unknown" (never checked) is truthy in udata's all().
        met["all_resources_available"] = all(r.available is not False for r in remote)
        met["resources_documentation"] = any(
            r.type == "documentation" or bool(r.description) for r in resources
        )
    return _quality(met)


def quality_from_server(dataset_json: Mapping[str, Any]) -> Quality:
    """The quality the server computed, from a dataset as `GET /datasets/{id}/` returns it.
    A missing or odd `quality` reads as nothing met; the score is the server's when given."""
    raw = dataset_json.get("quality") if isinstance(dataset_json, Mapping) else None
    quality: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    met: dict[str, bool | None] = {}
    for name in CRITERIA:
        if name in quality:
            met[name] = quality[name] is True
        elif name not in RESOURCE_CRITERIA:
            met[name] = None if name == "update_fulfilled_in_time" else False
    if not quality.get("has_resources"):
        for name in RESOURCE_CRITERIA:
            met.pop(name, None)
    result = _quality(met)
    score = quality.get("score")
    if isinstance(score, int | float) and not isinstance(score, bool):
        return Quality(result.criteria, float(score))
    return result


def _quality(met: Mapping[str, bool | None]) -> Quality:
    """Nine criteria from udata's dict (absent or None: left out by udata, so not met)."""
    criteria = []
    for name in CRITERIA:
        value = met.get(name)
        params: dict[str, Any] = {}
        if name == "dataset_description_quality":
            params = {"min": QUALITY_DESCRIPTION_LENGTH}
        if value:
            key = f"doc.quality.ok.{name}"
        elif name in RESOURCE_CRITERIA and name not in met:
            key = "doc.quality.todo.no_resources"
        else:
            key = f"doc.quality.todo.{name}"
        criteria.append(QualityCriterion(name, bool(value), key, params))
    points = sum(1 for c in criteria if c.ok)
    return Quality(tuple(criteria), points / QUALITY_MAX_SCORE)
