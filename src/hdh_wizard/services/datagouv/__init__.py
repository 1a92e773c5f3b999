"""data.gouv.fr (udata API v1): the typed client, its errors, models and resumable uploads."""

from hdh_wizard.services.datagouv.client import DataGouvClient
from hdh_wizard.services.datagouv.errors import ApiError, ErrorKind, describe
from hdh_wizard.services.datagouv.models import (
    Frequency,
    Granularity,
    Invitation,
    License,
    Member,
    Organization,
    OrganizationRef,
    User,
    Zone,
)
from hdh_wizard.services.datagouv.retry import RetryPolicy
from hdh_wizard.services.datagouv.upload import (
    DEFAULT_CHUNK_SIZE,
    ChunkedUpload,
    FileDigests,
    check_uploaded,
    file_digests,
)
from hdh_wizard.services.progress import UploadProgress

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ApiError",
    "ChunkedUpload",
    "DataGouvClient",
    "ErrorKind",
    "FileDigests",
    "Frequency",
    "Granularity",
    "Invitation",
    "License",
    "Member",
    "Organization",
    "OrganizationRef",
    "RetryPolicy",
    "UploadProgress",
    "User",
    "Zone",
    "check_uploaded",
    "describe",
    "file_digests",
]
