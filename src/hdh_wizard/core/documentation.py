"""The guide's standardized documentation template, and how it becomes a data.gouv.fr dataset.

The rules mirror udata 17.18.0 (data.gouv.fr's backend), cited where they are reproduced; udata is
never imported here. What the server does with a request body was checked against the real udata
(see ../shared/reference/udata/LOCAL-UDATA.md): a PUT wipes the fields it leaves out, an unknown
licence id is saved silently as "notspecified", a single tag holding commas is split.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from hdh_wizard.core.data_dictionary import DICTIONARY_NAME
from hdh_wizard.core.tags import (
    TAG_MAX_LENGTH,
    TAG_MIN_LENGTH,
    can_preview,
    normalise_tags,
    slugify_tag,
)
from hdh_wizard.i18n.catalogue import Catalogue, Lang, load_catalogue
from hdh_wizard.i18n.formatting import format_count, format_date, format_percent, format_size

# udata.core.dataset.constants.UpdateFrequency: the 40 ids in udata's order, with the time each
# allows before the next update is due (None: no regular update expected).
_FREQUENCY_TABLE: tuple[tuple[str, timedelta | None], ...] = (
    ("continuous", None),
    ("oneMinute", timedelta(minutes=1)),
    ("fiveMinutes", timedelta(minutes=5)),
    ("tenMinutes", timedelta(minutes=10)),
    ("fifteenMinutes", timedelta(minutes=15)),
    ("thirtyMinutes", timedelta(minutes=30)),
    ("hourly", timedelta(hours=1)),
    ("bihourly", timedelta(hours=2)),
    ("trihourly", timedelta(hours=3)),
    ("twelveHours", timedelta(hours=12)),
    ("severalTimesADay", timedelta(days=1)),
    ("threeTimesADay", timedelta(days=1)),
    ("semidaily", timedelta(days=1)),
    ("daily", timedelta(days=1)),
    ("fiveTimesAWeek", timedelta(weeks=1)),
    ("threeTimesAWeek", timedelta(weeks=1)),
    ("semiweekly", timedelta(weeks=1)),
    ("weekly", timedelta(weeks=1)),
    ("biweekly", timedelta(weeks=2)),
    ("threeTimesAMonth", timedelta(days=31)),
    ("semimonthly", timedelta(days=31)),
    ("monthly", timedelta(days=31)),
    ("bimonthly", timedelta(days=31 * 2)),
    ("quarterly", timedelta(days=31 * 3)),
    ("threeTimesAYear", timedelta(days=365)),
    ("semiannual", timedelta(days=365)),
    ("annual", timedelta(days=365)),
    ("biennial", timedelta(days=365 * 2)),
    ("triennial", timedelta(days=365 * 3)),
    ("quadrennial", timedelta(days=365 * 4)),
    ("quinquennial", timedelta(days=365 * 5)),
    ("decennial", timedelta(days=365 * 10)),
    ("bidecennial", timedelta(days=365 * 20)),
    ("tridecennial", timedelta(days=365 * 30)),
    ("punctual", None),
    ("irregular", None),
    ("never", None),
    ("notPlanned", None),
    ("other", None),
    ("unknown", None),
)
FREQUENCIES: tuple[str, ...] = tuple(fid for fid, _ in _FREQUENCY_TABLE)
FREQUENCY_DELTAS: dict[str, timedelta | None] = dict(_FREQUENCY_TABLE)
UNKNOWN_FREQUENCY = "unknown"
# UpdateFrequency._LEGACY_FREQUENCIES: old ids udata still reads as these.
LEGACY_FREQUENCIES = {
    "realtime": "continuous",
    "fourTimesADay": "severalTimesADay",
    "fourTimesAWeek": "other",
    "fortnighly": "biweekly",
    "biannual": "semiannual",
}

# udata.core.dataset.constants and the dataset form (udata.core.dataset.forms.DatasetForm).
TITLE_MAX = 350  # TITLE_SIZE_LIMIT
DESCRIPTION_MAX = 100_000  # DESCRIPTION_SIZE_LIMIT
DESCRIPTION_SHORT_MAX = 200  # DESCRIPTION_SHORT_SIZE_LIMIT
ACRONYM_MAX = 128  # Dataset.acronym max_length ("String value is too long" beyond)
CONTACT_MAX = 255  # ContactPoint name and email max_length
DEFAULT_LICENSE = "lov2"  # Licence Ouverte 2.0 ("fr-lo" is version 1)
DEFAULT_ZONES: tuple[str, ...] = ("country:fr",)
DEFAULT_GRANULARITY = "country"

# The fields of udata's DatasetForm that a PUT sets to their empty value when left out, so a
# full update must carry them over from the server (readOnly ones, resources and computed
# values are left to the server: resources have their own endpoints and survive a PUT).
PUT_FIELDS: tuple[str, ...] = (
    "title",
    "acronym",
    "description",
    "description_short",
    "license",
    "access_type",
    "access_audiences",
    "authorization_request_url",
    "access_type_reason_category",
    "access_type_reason",
    "frequency",
    "frequency_date",
    "archived",
    "temporal_coverage",
    "spatial",
    "tags",
    "private",
    "owner",
    "organization",
    "extras",
    "contact_points",
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


@dataclass(frozen=True)
class TemporalCoverage:
    start: date
    end: date | None = None


@dataclass(frozen=True)
class Documentation:
    title: str
    description: str
    description_short: str = ""
    license: str = DEFAULT_LICENSE
    tags: tuple[str, ...] = ()
    temporal: TemporalCoverage | None = None
    frequency: str = "punctual"
    zones: tuple[str, ...] = DEFAULT_ZONES
    granularity: str = DEFAULT_GRANULARITY
    contact_name: str = ""
    contact_email: str = ""
    acronym: str = ""


@dataclass(frozen=True)
class FieldProblem:
    """Something in one form field that the server would refuse or misread."""

    field: str  # the Documentation attribute ("temporal" for the coverage dates)
    key: str  # catalogue key of the message
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


def frequency_label_key(frequency: str) -> str:
    """The catalogue key of a frequency's label ("Ponctuelle" for punctual)."""
    return f"doc.frequency.{frequency}"


# --- the state file -------------------------------------------------------------------------


def documentation_to_outputs(doc: Documentation) -> dict[str, Any]:
    """Plain YAML-safe values (dates as ISO strings) for the step's outputs."""
    temporal = None
    if doc.temporal is not None:
        end = doc.temporal.end
        temporal = {
            "start": doc.temporal.start.isoformat(),
            "end": end.isoformat() if end else None,
        }
    return {
        "title": doc.title,
        "acronym": doc.acronym,
        "description": doc.description,
        "description_short": doc.description_short,
        "license": doc.license,
        "tags": list(doc.tags),
        "temporal": temporal,
        "frequency": doc.frequency,
        "zones": list(doc.zones),
        "granularity": doc.granularity,
        "contact_name": doc.contact_name,
        "contact_email": doc.contact_email,
    }


def documentation_from_outputs(data: Any) -> Documentation:
    """Reads what `documentation_to_outputs` wrote; a hand-edited value that makes no sense
    falls back to the field's default, so a damaged state opens instead of crashing."""
    d: Mapping[Any, Any] = data if isinstance(data, Mapping) else {}
    defaults = Documentation(title="", description="")

    def text(key: str, default: str) -> str:
        value = d.get(key, default)
        return value if isinstance(value, str) else default

    def strings(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = d.get(key)
        if not isinstance(value, list | tuple):
            return default
        return tuple(item for item in value if isinstance(item, str))

    frequency = text("frequency", defaults.frequency)
    frequency = LEGACY_FREQUENCIES.get(frequency, frequency)
    return Documentation(
        title=text("title", ""),
        description=text("description", ""),
        description_short=text("description_short", ""),
        license=text("license", defaults.license),
        tags=strings("tags", defaults.tags),
        temporal=_temporal_from_outputs(d.get("temporal")),
        frequency=frequency if frequency in FREQUENCIES else defaults.frequency,
        zones=strings("zones", defaults.zones),
        granularity=text("granularity", defaults.granularity),
        contact_name=text("contact_name", ""),
        contact_email=text("contact_email", ""),
        acronym=text("acronym", ""),
    )


def _as_date(value: Any) -> date | None:
    """A date from YAML: an ISO string, or the date (or datetime) YAML made of a bare one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).date()
        except ValueError:
            return None
    return None


def _temporal_from_outputs(value: Any) -> TemporalCoverage | None:
    if not isinstance(value, Mapping):
        return None
    start = _as_date(value.get("start"))
    if start is None:
        return None
    return TemporalCoverage(start, _as_date(value.get("end")))


# --- the requests ---------------------------------------------------------------------------


def _iso_datetime(day: date) -> str:
    # Swagger's TemporalCoverage asks for date-times; udata keeps the date (DateRangeField).
    return f"{day.isoformat()}T00:00:00"


def dataset_payload(
    doc: Documentation,
    organization_id: str,
    *,
    private: bool,
    contact_point_id: str | None = None,
) -> dict[str, Any]:
    """The body of `POST /datasets/` (and, through `merge_for_put`, of `PUT /datasets/{id}/`).

    Every field the template manages is present, null when empty, so that an update clears what
    the partner removed. Tags are sent as udata stores them: a list of one tag holding commas
    would be split by the server (udata.forms.fields.TagField.process_formdata).
    """
    temporal: dict[str, str] | None = None
    if doc.temporal is not None:
        temporal = {"start": _iso_datetime(doc.temporal.start)}
        if doc.temporal.end is not None:
            temporal["end"] = _iso_datetime(doc.temporal.end)
    spatial: dict[str, Any] | None = None
    if doc.zones or doc.granularity:
        # udata counts any spatial object for the quality score, even with no zone.
        spatial = {"zones": list(doc.zones), "granularity": doc.granularity or "other"}
    payload: dict[str, Any] = {
        "title": doc.title.strip(),
        "acronym": doc.acronym.strip() or None,
        "description": doc.description,
        "description_short": doc.description_short.strip() or None,
        "license": doc.license,
        "tags": normalise_tags(doc.tags),
        "frequency": doc.frequency,
        "temporal_coverage": temporal,
        "spatial": spatial,
        "organization": organization_id,
        "private": private,
    }
    # Always sent: an empty list clears a removed contact (a PUT keeps what it is not sent).
    payload["contact_points"] = [contact_point_id] if contact_point_id else []
    return payload


def _ref_id(value: Any) -> Any:
    """An object as the API reads it ({"id": …, "name": …}) as the API writes it (its id)."""
    if isinstance(value, Mapping):
        return value.get("id")
    return value


def merge_for_put(server_dataset: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """The full body of a PUT: the server's writable fields in their write shapes, then the
    payload over them. udata's PUT resets every form field left out (temporal_coverage to
    null, tags to [], contact_points to []), so nothing may be left out."""
    body: dict[str, Any] = {}
    for key in PUT_FIELDS:
        if key in server_dataset:
            body[key] = server_dataset[key]
    if body.get("organization") is not None:
        body["organization"] = _ref_id(body["organization"])
        body.pop("owner", None)  # an organization's dataset has no owner to send back
    else:
        body.pop("organization", None)
        if body.get("owner") is not None:
            body["owner"] = _ref_id(body["owner"])
        else:
            body.pop("owner", None)
    spatial = body.get("spatial")
    if isinstance(spatial, Mapping):
        # With X-Get-Datasets-Full-Objects the zones and granularity come as objects; the
        # form refuses those ("Not a valid choice").
        written: dict[str, Any] = {
            "zones": [_ref_id(z) for z in spatial.get("zones") or []],
            "granularity": _ref_id(spatial.get("granularity")) or "other",
        }
        if spatial.get("geom") is not None:
            written["geom"] = spatial["geom"]
        body["spatial"] = written
    contacts = body.get("contact_points")
    if isinstance(contacts, list):
        body["contact_points"] = [_ref_id(c) for c in contacts]
    body.update(payload)
    return body


# --- checks ---------------------------------------------------------------------------------


def check_documentation(
    doc: Documentation,
    known_licenses: Collection[str] | None = None,
    known_zones: Collection[str] | None = None,
    known_granularities: Collection[str] | None = None,
) -> list[FieldProblem]:
    """What the server would refuse, or accept and get wrong, field by field. The `known_*`
    lists come from the server (`/datasets/licenses/`, zones found, `/spatial/granularities/`);
    None when not fetched yet, and then that check waits."""
    problems: list[FieldProblem] = []

    def problem(field_name: str, key: str, **params: Any) -> None:
        problems.append(FieldProblem(field_name, f"doc.problem.{key}", params))

    title = doc.title.strip()
    if not title:
        problem("title", "title_required")
    elif len(title) > TITLE_MAX:  # the payload sends it stripped
        problem("title", "title_too_long", max=TITLE_MAX, length=len(title))
    if not doc.description.strip():
        problem("description", "description_required")
    elif len(doc.description) > DESCRIPTION_MAX:
        problem("description", "description_too_long", max=DESCRIPTION_MAX)
    elif has_placeholders(doc.description):
        problem("description", "description_placeholders")
    if len(doc.description_short.strip()) > DESCRIPTION_SHORT_MAX:
        problem(
            "description_short",
            "description_short_too_long",
            max=DESCRIPTION_SHORT_MAX,
            length=len(doc.description_short.strip()),
        )
    if len(doc.acronym.strip()) > ACRONYM_MAX:
        problem("acronym", "acronym_too_long", max=ACRONYM_MAX)
    if not doc.license:
        problem("license", "license_required")
    elif known_licenses is not None and doc.license not in known_licenses:
        problem("license", "license_unknown", license=doc.license)
    if doc.frequency not in FREQUENCIES:
        problem("frequency", "frequency_unknown", frequency=doc.frequency)
    if doc.temporal and doc.temporal.end and doc.temporal.start > doc.temporal.end:
        # udata would swap them silently (udata.mongo.datetime_fields.DateRange.clean).
        problem(
            "temporal",
            "temporal_order",
            start=doc.temporal.start.isoformat(),
            end=doc.temporal.end.isoformat(),
        )
    for tag in doc.tags:
        slug = slugify_tag(tag)
        if not can_preview(tag):
            problem("tags", "tag_charset", tag=tag)
        elif not slug:
            problem("tags", "tag_empty", tag=tag)
        elif not TAG_MIN_LENGTH <= len(slug) <= TAG_MAX_LENGTH:
            problem(
                "tags", "tag_length", tag=tag, slug=slug, min=TAG_MIN_LENGTH, max=TAG_MAX_LENGTH
            )
    if known_zones is not None:
        for zone in doc.zones:
            if zone not in known_zones:
                problem("zones", "zone_unknown", zone=zone)
    if known_granularities is not None and doc.granularity not in known_granularities:
        problem("granularity", "granularity_unknown", granularity=doc.granularity)
    if len(doc.contact_name.strip()) > CONTACT_MAX:
        problem("contact_name", "contact_too_long", max=CONTACT_MAX)
    email = doc.contact_email.strip()
    if len(email) > CONTACT_MAX:
        problem("contact_email", "contact_too_long", max=CONTACT_MAX)
    elif email and not _EMAIL.match(email):
        problem("contact_email", "contact_email", email=email)
    elif doc.contact_name.strip() and not email:
        # udata refuses a contact point without an address: say it before the deposit starts.
        problem("contact_email", "contact_email_required")
    return problems


# --- the description template ---------------------------------------------------------------

_SECTIONS = (
    "overview",
    "context",
    "content",
    "variables",
    "collection",
    "anonymisation",
    "cite",
    "contact",
)


def _todo(cat: Catalogue, key: str, **params: Any) -> str:
    return cat.t("doc.template.todo", text=cat.t(key, **params))


def _todo_prefixes() -> tuple[str, ...]:
    prefixes = []
    for lang in Lang:
        template = load_catalogue(lang).messages["doc.template.todo"]
        prefixes.append(template.split("{text}")[0])
    return tuple(prefixes)


def has_placeholders(description: str) -> bool:
    """True while the description still holds a "[À compléter : …]" line of the template."""
    return any(prefix in description for prefix in _todo_prefixes())


def _code(text: str) -> str:
    """A name (file, column) as Markdown code, so markup in it is shown, never interpreted."""
    flat = " ".join(str(text).split())
    fence = "``" if "`" in flat else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


DICTIONARY_FILE = f"{DICTIONARY_NAME}.csv"


def description_template(
    release_name: str,
    anonymity: Mapping[str, Any] | None,
    lang: Lang = Lang.FR,
    *,
    files: Sequence[tuple[str, int]] = (),
) -> str:
    """The Markdown description of the guide's template: overview, context, content, collection,
    anonymisation method, how to cite, contact. The anonymisation section is written from the
    anonymity step's outputs when given (`inspect.risk.step.step_outputs`); `files` (name, size
    in bytes) fill the content section. Every other section is a "[À compléter : …]" line."""
    cat = load_catalogue(lang)
    name = release_name.strip() or cat.t("doc.template.unnamed")
    bodies: dict[str, list[str]] = {
        "overview": [_todo(cat, "doc.template.overview.todo", name=name)],
        "context": [_todo(cat, "doc.template.context.todo")],
        "content": _content(cat, files, lang),
        # The dictionary is published beside the data (`flows.dictionary`): named, not copied.
        "variables": [cat.t("doc.template.variables.body", dictionary=_code(DICTIONARY_FILE))],
        "collection": [_todo(cat, "doc.template.collection.todo")],
        "anonymisation": anonymity_summary(anonymity, lang)
        or [_todo(cat, "doc.template.anonymisation.todo")],
        "cite": [_todo(cat, "doc.template.cite.todo", name=name)],
        "contact": [_todo(cat, "doc.template.contact.todo")],
    }
    parts = []
    for section in _SECTIONS:
        parts.append(f"## {cat.t(f'doc.template.{section}.title')}")
        parts.append("\n".join(bodies[section]))
    return "\n\n".join(parts) + "\n"


def _content(cat: Catalogue, files: Sequence[tuple[str, int]], lang: Lang) -> list[str]:
    if not files:
        return [_todo(cat, "doc.template.content.todo")]
    lines = [cat.t("doc.template.content.intro"), ""]
    for file_name, size in files:
        lines.append(
            cat.t(
                "doc.template.content.file",
                name=_code(PurePosixPath(file_name).name),
                size=format_size(size, lang),
            )
        )
    lines += ["", _todo(cat, "doc.template.content.columns")]
    return lines


def anonymity_summary(anonymity: Mapping[str, Any] | None, lang: Lang = Lang.FR) -> list[str]:
    """The anonymity step's outputs in plain words, as Markdown lines; [] when they say
    nothing usable (step not done, or a hand-edited state)."""
    if not isinstance(anonymity, Mapping):
        return []
    cat = load_catalogue(lang)
    lines: list[str] = []
    criteria = _criteria_lines(cat, anonymity.get("criteria"))
    if criteria:
        lines += [cat.t("doc.template.anonymisation.intro"), "", *criteria]
    tables = anonymity.get("tables")
    for table in tables if isinstance(tables, list) else []:
        table_lines = _table_lines(cat, table, lang)
        if table_lines:
            lines += ["", *table_lines]
    images = anonymity.get("images")
    if isinstance(images, list) and images:
        findings = sum(
            i["findings"]
            for i in images
            if isinstance(i, Mapping) and isinstance(i.get("findings"), int)
        )
        lines += [
            "",
            cat.t(
                "doc.template.anonymisation.images",
                count=format_count(len(images)),
                findings=format_count(findings),
            ),
        ]
    copies = [
        _code(PurePosixPath(str(r["path"])).name)
        for r in anonymity.get("replacements") or []
        if isinstance(r, Mapping) and isinstance(r.get("path"), str)
    ]
    if copies:
        lines += ["", cat.t("doc.template.anonymisation.copies", files=", ".join(copies))]
    attestation = _attestation_line(cat, anonymity.get("attestation"), lang)
    if attestation:
        lines += ["", attestation]
    return lines


_CRITERIA = ("singling_out", "linkability", "inference")  # inspect.risk.analysis.Criterion


def _criteria_lines(cat: Catalogue, criteria: Any) -> list[str]:
    if not isinstance(criteria, Mapping):
        return []
    lines = []
    for criterion in _CRITERIA:
        entry = criteria.get(criterion)
        if not isinstance(entry, Mapping) or not isinstance(entry.get("excluded"), bool):
            continue
        label = cat.t(f"doc.template.criterion.{criterion}")
        justification = entry.get("justification")
        justification = justification.strip() if isinstance(justification, str) else ""
        if entry["excluded"]:
            verdict = cat.t("doc.template.anonymisation.excluded")
        elif justification:
            verdict = cat.t("doc.template.anonymisation.justified")
        else:
            verdict = cat.t("doc.template.anonymisation.not_excluded")
        lines.append(
            cat.t("doc.template.anonymisation.criterion", criterion=label, verdict=verdict)
        )
        if justification and not entry["excluded"]:
            lines += [""] + [f"  > {line}".rstrip() for line in justification.splitlines()] + [""]
    return lines


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _share(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _table_lines(cat: Catalogue, table: Any, lang: Lang) -> list[str]:
    if not isinstance(table, Mapping) or not isinstance(table.get("table"), str):
        return []
    original = _mapping(table.get("original"))
    records = _int(original.get("records"))
    if records is None:
        lines = [cat.t("doc.template.anonymisation.table", table=_code(table["table"]))]
    else:
        lines = [
            cat.t(
                "doc.template.anonymisation.table_records",
                table=_code(table["table"]),
                records=format_count(records),
            )
        ]
    quasi = [q for q in table.get("quasi_identifiers") or [] if isinstance(q, str)]
    if quasi:
        lines.append(
            cat.t("doc.template.anonymisation.quasi", columns=", ".join(_code(q) for q in quasi))
        )
    rules = [r for r in table.get("rules") or [] if isinstance(r, Mapping)]
    rule_lines = []
    for rule in rules:
        key = f"risk.coarsening.{rule.get('rule')}"
        if not isinstance(rule.get("column"), str) or not cat.has(key):
            continue
        count = _int(rule.get("min_count")) or 0
        rule_lines.append(
            "  "
            + cat.t(
                "doc.template.anonymisation.rule",
                column=_code(rule["column"]),
                rule=cat.t(key, count=count),
            )
        )
    if rule_lines:
        lines += [cat.t("doc.template.anonymisation.rules"), *rule_lines]
    elif isinstance(table.get("rules"), list):
        lines.append(cat.t("doc.template.anonymisation.no_rules"))
    measures = _measures_line(cat, table, original, lang)
    if measures:
        lines.append(measures)
    return lines


def _measures_line(
    cat: Catalogue, table: Mapping[str, Any], original: Mapping[str, Any], lang: Lang
) -> str:
    threshold = _int(table.get("threshold"))
    after = table.get("generalised") if isinstance(table.get("generalised"), Mapping) else None
    before_k, before_share = _int(original.get("k")), _share(original.get("share_in_small_classes"))
    if threshold is None or before_k is None or before_share is None:
        return ""
    if after is not None:
        k, share = _int(after.get("k")), _share(after.get("share_in_small_classes"))
        if k is not None and share is not None:
            return cat.t(
                "doc.template.anonymisation.measures_after",
                threshold=threshold,
                k=k,
                share=format_percent(share, lang),
                k_before=before_k,
                share_before=format_percent(before_share, lang),
            )
    return cat.t(
        "doc.template.anonymisation.measures",
        threshold=threshold,
        k=before_k,
        share=format_percent(before_share, lang),
    )


def _attestation_line(cat: Catalogue, attestation: Any, lang: Lang) -> str:
    if not isinstance(attestation, Mapping):
        return ""
    values = {k: attestation.get(k) for k in ("name", "role", "organization", "date")}
    if not all(isinstance(v, str) and v.strip() for v in values.values()):
        return ""
    day = _as_date(values["date"])
    return cat.t(
        "doc.template.anonymisation.attestation",
        name=str(values["name"]).strip(),
        role=str(values["role"]).strip(),
        organization=str(values["organization"]).strip(),
        date=format_date(day, lang) if day else str(values["date"]),
    )
