"""Run the real udata on 127.0.0.1 with an in-memory database and known seeds.

Runs in udata's own virtual environment (`.udata-venv`), never in the project's: udata pins
Flask, mongoengine and celery. See ../shared/reference/udata/LOCAL-UDATA.md.
Usage: python launcher.py PORT FS_ROOT SEEDS_JSON
The seeds file names the users and their API keys; the database lives in this process, so it is
seeded here, before serving.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import unicodedata
from datetime import UTC, datetime
from pathlib import Path


def _settings(fs_root: str) -> str:
    text = f"""
import mongomock
MONGODB_HOST = "mongodb://localhost:27017/udata"
MONGODB_SETTINGS = {{"host": MONGODB_HOST, "mongo_client_class": mongomock.MongoClient}}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
CACHE_TYPE = "flask_caching.backends.SimpleCache"
ELASTICSEARCH_URL = None
SEARCH_SERVICE_API_URL = None
SEND_MAIL = False
SECRET_KEY = "local-tests-only"
SECURITY_PASSWORD_SALT = "local-tests-only"
API_TOKEN_SECRET = "local-tests-only"
SERVER_NAME = None
WTF_CSRF_ENABLED = False
SESSION_COOKIE_SECURE = False
FS_ROOT = {fs_root!r}
FS_SERVE = True
PUBLISH_ON_RESOURCE_EVENTS = False
URLS_ALLOW_LOCAL = True
URLS_ALLOW_PRIVATE = True
URLS_RESOLVE_HOSTNAME = False
SECURITY_EMAIL_VALIDATOR_ARGS = {{"check_deliverability": False}}
"""
    path = Path(tempfile.mkdtemp(prefix="udata-settings-")) / "udata.cfg"
    path.write_text(text)
    return str(path)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _patch_text_search() -> None:
    """mongomock has no $text: search by a folded substring match instead (unranked)."""
    from mongoengine.queryset.base import BaseQuerySet

    fields = ("title", "name", "acronym", "description", "tags", "slug", "code")

    def search_text(self, text, language=None, text_score=True):  # type: ignore[no-untyped-def]
        words = [w for w in re.split(r"\s+", _fold(text)) if w]
        matching = []
        for doc in self.clone():
            blob = " ".join(
                _fold(" ".join(v) if isinstance(v, list) else str(v or ""))
                for v in (getattr(doc, f, "") for f in fields)
            )
            if all(w in blob for w in words):
                matching.append(doc.pk)
        return self.clone().filter(pk__in=matching)

    original_order_by = BaseQuerySet.order_by

    def order_by(self, *keys, __raw__=None):  # type: ignore[no-untyped-def]
        keys = tuple(k for k in keys if k and "$text_score" not in k)
        return original_order_by(self, *keys, __raw__=__raw__)

    BaseQuerySet.search_text = search_text
    BaseQuerySet.order_by = order_by


def _seed(seeds: dict) -> None:  # type: ignore[type-arg]
    import flask_security.utils
    from udata.core.api_token.models import ApiToken, _hash_token
    from udata.core.dataset.models import License
    from udata.core.spatial.models import GeoLevel, GeoZone
    from udata.models import datastore

    now = datetime.now(UTC)
    for user in seeds["users"]:
        created = datastore.create_user(
            first_name=user["first_name"],
            last_name=user["last_name"],
            email=user["email"],
            password=flask_security.utils.hash_password(user["password"]),
            confirmed_at=now,
            active=True,
        )
        key = user["api_key"]
        ApiToken(
            token_hash=_hash_token(key), token_prefix=key[:14], user=created, name="tests"
        ).save()
    for license_id, title, url in (
        (
            "lov2",
            "Licence Ouverte / Open Licence version 2.0",
            "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
        ),
        (
            "fr-lo",
            "Licence Ouverte / Open Licence",
            "http://www.data.gouv.fr/Licence-Ouverte-Open-Licence",
        ),
        (
            "odc-odbl",
            "Open Data Commons Open Database License (ODbL)",
            "http://opendatacommons.org/licenses/odbl/summary/",
        ),
        ("cc-by", "Creative Commons Attribution", "http://opendefinition.org/licenses/cc-by/"),
        ("notspecified", "License Not Specified", ""),
    ):
        License(id=license_id, title=title, url=url or None, active=True).save()
    for level_id, name, admin_level in (
        ("country", "Pays", 10),
        ("fr:region", "Région", 40),
        ("fr:departement", "Département", 60),
        ("fr:commune", "Commune", 80),
    ):
        GeoLevel(id=level_id, name=name, admin_level=admin_level).save()
    for zone_id, slug, level, code, name in (
        ("country:fr", "france", "country", "fr", "France"),
        ("fr:region:84", "auvergne-rhone-alpes", "fr:region", "84", "Auvergne-Rhône-Alpes"),
        ("fr:region:11", "ile-de-france", "fr:region", "11", "Île-de-France"),
        ("fr:departement:69", "rhone", "fr:departement", "69", "Rhône"),
        ("fr:departement:75", "paris", "fr:departement", "75", "Paris"),
        ("fr:commune:69123", "lyon", "fr:commune", "69123", "Lyon"),
    ):
        GeoZone(id=zone_id, slug=slug, level=level, code=code, name=name).save()


def main() -> None:
    import os

    port, fs_root, seeds_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    os.environ["UDATA_SETTINGS"] = _settings(fs_root)
    _patch_text_search()
    from udata.app import create_app, standalone
    from werkzeug.serving import run_simple

    app = standalone(create_app())
    seeds = json.loads(Path(seeds_path).read_text())
    with app.app_context(), app.test_request_context():
        _seed(seeds)
    run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
