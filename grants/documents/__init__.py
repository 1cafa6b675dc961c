"""Documents: uploads checked by content, stored under generated keys, served only after a
permission check. Nothing half-done is left behind. In named parts: `kinds` (what may be
uploaded: types told from the bytes, sizes, names), `access` (who may upload, download,
remove), `files` (upload, download, delete) and `orphans` (manage.py sweep_orphans).
Every name is importable from `grants.documents`."""

from .access import can_delete, can_download, can_upload, visible_documents
from .files import (
    Download,
    delete_document,
    download_document,
    download_filename,
    prepare_download,
    presigned_url,
    record_download,
    upload_document,
)
from .kinds import (
    ALLOWED_TYPES,
    APPLICANT_KINDS,
    EXTENSIONS,
    KEY_PREFIX,
    SENSITIVE_KINDS,
    STORAGE_ERRORS,
    DocumentMissing,
    StorageUnavailable,
    UnsupportedType,
    UploadTooLarge,
    allowed_types_label,
    check_request_size,
    clean_name,
    human_size,
    largest_upload,
    max_bytes,
    sniff,
)
from .orphans import OrphanObject, Orphans, find_orphans, remove_orphans

__all__ = [
    "ALLOWED_TYPES",
    "APPLICANT_KINDS",
    "EXTENSIONS",
    "KEY_PREFIX",
    "SENSITIVE_KINDS",
    "STORAGE_ERRORS",
    "Download",
    "DocumentMissing",
    "OrphanObject",
    "Orphans",
    "StorageUnavailable",
    "UnsupportedType",
    "UploadTooLarge",
    "allowed_types_label",
    "can_delete",
    "can_download",
    "can_upload",
    "check_request_size",
    "clean_name",
    "delete_document",
    "download_document",
    "download_filename",
    "find_orphans",
    "human_size",
    "largest_upload",
    "max_bytes",
    "prepare_download",
    "presigned_url",
    "record_download",
    "remove_orphans",
    "sniff",
    "upload_document",
    "visible_documents",
]
