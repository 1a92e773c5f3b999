"""HDH's S3-compatible storage (route 2): connection details and test, resumable multipart
uploads with checked parts, verification of what arrived, and the public URLs to reference.

boto3 is imported only by `connect()`: importing this package stays cheap.
"""

from hdh_wizard.services.progress import UploadProgress
from hdh_wizard.services.storage.config import (
    ConnectionCheck,
    ConnectionReport,
    RemoteObject,
    RemotePart,
    StorageClient,
    StorageConfig,
    connect,
    test_connection,
)
from hdh_wizard.services.storage.errors import StorageError, StorageErrorKind, describe
from hdh_wizard.services.storage.transfer import (
    DEFAULT_PART_SIZE,
    DEFAULT_WORKERS,
    MIN_PART_SIZE,
    FileToSend,
    MultipartState,
    TransferPhase,
    TransferProgress,
    UploadResult,
    abandon,
    choose_part_size,
    file_sha256,
    upload_file,
    upload_files,
)
from hdh_wizard.services.storage.verify import ObjectCheck, public_url, verify_object

__all__ = [
    "DEFAULT_PART_SIZE",
    "DEFAULT_WORKERS",
    "MIN_PART_SIZE",
    "ConnectionCheck",
    "ConnectionReport",
    "FileToSend",
    "MultipartState",
    "ObjectCheck",
    "RemoteObject",
    "RemotePart",
    "StorageClient",
    "StorageConfig",
    "StorageError",
    "StorageErrorKind",
    "TransferPhase",
    "TransferProgress",
    "UploadProgress",
    "UploadResult",
    "abandon",
    "choose_part_size",
    "connect",
    "describe",
    "file_sha256",
    "public_url",
    "test_connection",
    "upload_file",
    "upload_files",
    "verify_object",
]
