"""The small vocabularies of the release model."""

from __future__ import annotations

from enum import StrEnum


class Route(StrEnum):
    """The guide's two "cas de figure", decided by the total volume."""

    DIRECT = "direct"  # ≤ 1 Go: the partner deposits the files on data.gouv.fr
    HOSTED = "hosted"  # > 1 Go: hosted by HDH, referenced on data.gouv.fr by URL


class Group(StrEnum):
    PREREQUISITES = "prerequisites"
    ROUTE = "route"
    PUBLICATION = "publication"
    OPTIONAL = "optional"


class Actor(StrEnum):
    """Who does a step."""

    PARTNER = "partner"
    HDH_STAFF = "hdh_staff"
    EITHER = "either"


class Role(StrEnum):
    """Who a person using the wizard is."""

    PARTNER = "partner"
    HDH_STAFF = "hdh_staff"


class Requirement(StrEnum):
    REQUIRED = "required"
    RECOMMENDED = "recommended"


class StepStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"
    BLOCKED = "blocked"
    STALE = "stale"  # was done, but something it relied on changed: to review


class Environment(StrEnum):
    """Where the release is published."""

    DEMO = "demo"
    PRODUCTION = "production"
    CUSTOM = "custom"


ENVIRONMENT_URLS: dict[Environment, str] = {
    Environment.DEMO: "https://demo.data.gouv.fr",
    Environment.PRODUCTION: "https://www.data.gouv.fr",
}
