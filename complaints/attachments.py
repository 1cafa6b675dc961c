"""A complaint's attachment passes the checks every document passes (grants.documents):
its size, its type read from the bytes (PDF, JPEG, PNG, DOCX, ODT, as for a document of
kind "other"), PDFs without active content, archives that do not expand beyond reason,
photos without their metadata (location, camera). It is stored under a generated key in
the private document store and served only after the permission check
(`complaints.views.attachment`)."""

import hashlib
import logging

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from core.errors import ServiceError
from grants import filechecks
from grants.documents import (
    ALLOWED_TYPES,
    EXTENSIONS,
    STORAGE_ERRORS,
    StorageUnavailable,
    UnsupportedType,
    UploadTooLarge,
    clean_name,
    human_size,
    max_bytes,
    sniff,
)
from grants.documents.kinds import ARCHIVES, CHUNK, IMAGES, PDF
from grants.images import strip_metadata
from grants.models import DocumentKind

from .models import ComplaintAttachment, attachment_key

log = logging.getLogger(__name__)
KIND = DocumentKind.OTHER


def checked(uploaded_file):
    """(stream to store, content type): the file after every check, photos stripped.
    Raises UploadTooLarge (413), UnsupportedType or RefusedContent (415), ServiceError."""
    size = uploaded_file.size or 0
    limit = max_bytes(KIND)
    if size > limit:
        raise UploadTooLarge(
            _("An attachment may be at most %(limit)s; this file is %(size)s.")
            % {"limit": human_size(limit), "size": human_size(size)},
            code="too_large",
        )
    if size == 0:
        raise ServiceError(
            _("The file is empty."), code="empty", details={"attachment": [_("The file is empty.")]}
        )
    uploaded_file.seek(0)
    content_type = sniff(uploaded_file.read(8), uploaded_file)
    uploaded_file.seek(0)
    if content_type not in ALLOWED_TYPES[KIND]:
        raise UnsupportedType(
            _(
                "This file is not an allowed type: it must be PDF, JPEG, PNG, DOCX or ODT. "
                "The type is read from the file's content, not from its name."
            ),
            code="unsupported_type",
        )
    if content_type == PDF:
        filechecks.check_pdf(uploaded_file)
    elif content_type in ARCHIVES:
        filechecks.check_archive(uploaded_file)
    if content_type in IMAGES:
        return strip_metadata(uploaded_file, content_type), content_type
    return uploaded_file, content_type


def store(uploaded_file, stream, content_type):
    """Write the bytes under a generated key, before any transaction opens; an unsaved
    attachment row to save with the complaint."""
    digest, size = hashlib.sha256(), 0
    stream.seek(0)
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    attachment = ComplaintAttachment(
        original_name=clean_name(uploaded_file.name),
        size=size,
        content_type=content_type,
        sha256=digest.hexdigest(),
    )
    content = File(stream, name=f"upload.{EXTENSIONS[content_type]}")
    content.content_type = content_type
    field = attachment.file.field
    key = attachment_key(attachment, content.name)
    try:
        attachment.file.name = field.storage.save(key, content, max_length=field.max_length)
    except STORAGE_ERRORS as exc:
        delete_objects([key])
        log.error("document store failed during a complaint upload: %r", exc)
        raise StorageUnavailable(
            _("The document store is not reachable; nothing was saved. Try again in a few minutes."),
            code="storage_unavailable",
        ) from exc
    return attachment


def delete_objects(names):
    for name in names:
        try:
            default_storage.delete(name)
        except STORAGE_ERRORS:
            log.exception("could not remove object %s", name)


def open_file(attachment):
    try:
        return attachment.file.storage.open(attachment.file.name, "rb")
    except FileNotFoundError:
        raise ServiceError(_("The file is missing from the document store."), code="missing") from None
    except STORAGE_ERRORS as exc:
        raise StorageUnavailable(
            _("The document store is not reachable. Try again in a few minutes."), code="storage_unavailable"
        ) from exc


def download_name(attachment):
    base = attachment.original_name.rsplit(".", 1)[0] or "attachment"
    return f"{base}.{EXTENSIONS.get(attachment.content_type, 'bin')}"
