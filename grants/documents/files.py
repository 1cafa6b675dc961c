"""Documents: uploads checked by content, stored under generated keys, served only after a
permission check. Nothing half-done is left behind.

An upload is checked (size, then type from the bytes), photos lose their metadata, the
object is written before any database transaction opens (no lock is held while a file
travels to S3), and the row with its audit event is saved in one short transaction; if
that fails, the object is removed again. Call `upload_document` outside a transaction
(upload views are `non_atomic_requests`): a surrounding transaction that rolls back later
would leave the object behind for `manage.py sweep_orphans`, which also finds what a
crash between the two steps could leave.
"""

import hashlib
import logging
import os
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from audit import trail
from core.errors import ServiceError, require

from .. import filechecks, permissions
from ..images import strip_metadata
from ..models import Delivery, Document, DocumentKind
from ..services import maybe_complete_delivery, note_signed_contract
from .access import can_delete, can_download, can_upload
from .kinds import (
    ALLOWED_TYPES,
    ARCHIVES,
    CHUNK,
    EXTENSIONS,
    IMAGES,
    PDF,
    S3_ERRORS,
    STORAGE_ERRORS,
    DocumentMissing,
    StorageUnavailable,
    UnsupportedType,
    UploadTooLarge,
    allowed_types_label,
    clean_name,
    human_size,
    max_bytes,
    sniff,
)

log = logging.getLogger(__name__)


def _checked_type(uploaded_file, kind):
    uploaded_file.seek(0)
    content_type = sniff(uploaded_file.read(8), uploaded_file)
    uploaded_file.seek(0)
    if content_type is None or content_type not in ALLOWED_TYPES[kind]:
        raise UnsupportedType(
            _(
                "This file is not an allowed type for a %(kind)s: it must be %(types)s. "
                "The type is read from the file's content, not from its name."
            )
            % {"kind": DocumentKind(kind).label.lower(), "types": allowed_types_label(kind)},
            code="unsupported_type",
        )
    if content_type == PDF:
        filechecks.check_pdf(uploaded_file)
    elif content_type in ARCHIVES:
        filechecks.check_archive(uploaded_file)
    return content_type


def _digest(stream):
    digest, size = hashlib.sha256(), 0
    stream.seek(0)
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


def _duplicate():
    return ServiceError(
        _("This file is already attached to this application."),
        code="duplicate",
        details={"file": [_("Already uploaded.")]},
    )


def upload_document(*, application, by, kind, uploaded_file):
    """Check, store and record one document. Raises UploadTooLarge, ImageTooLarge or
    ArchiveTooLarge (413), UnsupportedType, RefusedContent or UnreadableImage (415),
    StorageUnavailable (503), ServiceError (400: empty, duplicate, unknown kind),
    NotVisible or NotAllowed; in every case nothing is left in the database or storage."""
    if kind not in DocumentKind.values:
        raise ServiceError(
            _("Unknown document kind."), details={"kind": [_("Choose a document kind from the list.")]}
        )
    require(can_upload(by, application, kind))
    size = uploaded_file.size or 0
    limit = max_bytes(kind)
    if size > limit:
        raise UploadTooLarge(
            _("A %(kind)s may be at most %(limit)s; this file is %(size)s.")
            % {
                "kind": DocumentKind(kind).label.lower(),
                "limit": human_size(limit),
                "size": human_size(size),
            },
            code="too_large",
        )
    if size == 0:
        raise ServiceError(_("The file is empty."), code="empty", details={"file": [_("The file is empty.")]})
    content_type = _checked_type(uploaded_file, kind)
    if content_type in IMAGES:
        stream = strip_metadata(uploaded_file, content_type)
    else:
        stream = uploaded_file
    try:
        return _store_and_record(application, by, kind, uploaded_file.name, stream, content_type)
    finally:
        if stream is not uploaded_file:
            stream.close()


def _store_and_record(application, by, kind, name, stream, content_type):
    sha256, size = _digest(stream)
    if Document.objects.filter(application=application, sha256=sha256).exists():
        raise _duplicate()
    document = Document(
        application=application,
        kind=kind,
        original_name=clean_name(name),
        size=size,
        content_type=content_type,
        sha256=sha256,
        uploaded_by=by,
        on_behalf_of=application.applicant if permissions.acts_on_behalf(by, application) else None,
    )
    key = _write_object(document, stream, content_type)
    try:
        with transaction.atomic():
            document.save()
            data = {"document": document.pk, "kind": kind, "sha256": sha256}
            if kind == DocumentKind.HANDOVER_PROTOCOL:
                data["deliveries"] = _cover_deliveries(application, document)
            trail.record(
                action="document_uploaded",
                actor=by,
                application=application,
                on_behalf_of=document.on_behalf_of,
                data=data,
            )
    except IntegrityError:
        _delete_object(key)
        if Document.objects.filter(application=application, sha256=sha256).exists():
            # The same file arrived twice at once; the other upload won.
            raise _duplicate() from None
        raise
    except Exception:
        _delete_object(key)
        raise
    if kind == DocumentKind.HANDOVER_PROTOCOL:
        _maybe_complete_delivery(application, by)
    if kind == DocumentKind.SIGNED_CONTRACT:
        # The contract keeps when its signed copy arrived; the document stays either way.
        note_signed_contract(document=document, by=by)
    return document


def _write_object(document, stream, content_type):
    """Store the bytes under a generated key (no user-supplied name reaches storage)."""
    content = File(stream, name=f"upload.{EXTENSIONS[content_type]}")
    # S3 records this as the object's Content-Type: the sniffed type, never the client's.
    content.content_type = content_type
    field = document.file.field
    key = field.generate_filename(document, content.name)
    try:
        stored = field.storage.save(key, content, max_length=field.max_length)
    except STORAGE_ERRORS as exc:
        if not isinstance(exc, S3_ERRORS):
            # A local write that broke off (disk full) leaves a partial file; a failed S3
            # PUT leaves nothing.
            _delete_object(key)
        log.error("document store failed during an upload: %r", exc)
        raise StorageUnavailable(
            _("The document store is not reachable; nothing was saved. Try again in a few minutes."),
            code="storage_unavailable",
        ) from exc
    document.file.name = stored
    _until_committed(stored)
    return stored


# Objects stored by this thread whose row has not committed yet. A request whose
# transaction never commits (the database went away before or at COMMIT, the request
# answered 503 "nothing was saved") would otherwise leave its object behind: they are
# removed when the request ends (`discard_uncommitted`, on request_finished).
_uncommitted = threading.local()


def _until_committed(key):
    keys = _uncommitted.__dict__.setdefault("keys", set())
    keys.add(key)
    transaction.on_commit(lambda: keys.discard(key))


def forget_uncommitted(**_signal):
    """A request starts with no upload of its own yet: what a command, a task or a test
    stored outside a request is not this request's to remove."""
    _uncommitted.__dict__["keys"] = set()


def discard_uncommitted(**_signal):
    """Remove the objects of this thread's uploads whose rows never committed: the
    request failed, and its answer said nothing was saved. A row this connection can
    still see (a transaction still open around the request, as in the tests) keeps its
    object."""
    keys = _uncommitted.__dict__.get("keys")
    while keys:
        key = keys.pop()
        try:
            if Document.objects.filter(file=key).exists():
                continue
        except DatabaseError:
            pass  # the database is away: the request failed with it
        log.warning("upload not committed; removing its object %s", key)
        _delete_object(key)


def _cover_deliveries(application, document):
    """Link a signed handover protocol to the grant's deliveries recorded before it that
    no protocol covers yet: those are the ones it was signed for. Their ids."""
    covered = list(
        Delivery.objects.filter(application=application, created_at__lte=document.created_at)
        .without_protocol()
        .values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=covered).update(handover_protocol=document, updated_at=timezone.now())
    return covered


def _maybe_complete_delivery(application, by):
    """The signed protocol may be the last thing missing: take record_delivery now. The
    document stays on file whether or not the delivery can be recorded yet."""

    application.refresh_from_db()
    try:
        maybe_complete_delivery(application=application, by=by)
    except ServiceError as exc:
        log.info("delivery of application %s not recorded after the protocol: %s", application.pk, exc)


def _delete_object(name):
    try:
        default_storage.delete(name)
    except STORAGE_ERRORS:
        log.exception("could not remove object %s; manage.py sweep_orphans will find it", name)


@dataclass(frozen=True)
class Download:
    """What to send: a short-lived presigned `url` (S3) or an open `file` to stream."""

    filename: str
    content_type: str
    url: str | None = None
    file: object = None


def download_document(*, document, by):
    """Permission check, the way to the bytes, then the audit event."""
    require(can_download(by, document))
    download = prepare_download(document)
    try:
        _record_download(document, by)
    except Exception:
        if download.file is not None:
            download.file.close()
        raise
    return download


def record_download(*, document, by):
    """The permission check and the audit event alone (the caller serves the file)."""
    require(can_download(by, document))
    _record_download(document, by)


def _record_download(document, by):
    trail.record(
        action="document_downloaded",
        actor=by,
        application=document.application,
        data={"document": document.pk, "kind": document.kind},
    )


def prepare_download(document):
    """A presigned URL on S3 (nothing passes through this process, and any app server
    can hand it out), an open file to stream otherwise. No permission check here."""
    filename = download_filename(document)
    if settings.STORAGE_BACKEND == "s3":
        return Download(filename, document.content_type, url=presigned_url(document, filename))
    return Download(filename, document.content_type, file=_open(document))


def presigned_url(document, filename=None):
    """A GET URL valid PRESIGNED_URL_SECONDS (five minutes at most) that makes the
    browser save the file under its cleaned name with the sniffed type."""
    filename = filename or download_filename(document)
    return document.file.storage.url(
        document.file.name,
        parameters={
            "ResponseContentDisposition": content_disposition_header(True, filename),
            "ResponseContentType": document.content_type,
        },
        expire=settings.PRESIGNED_URL_SECONDS,
    )


def _open(document):
    try:
        return document.file.storage.open(document.file.name, "rb")
    except FileNotFoundError:
        log.error("document %s has no object %s", document.pk, document.file.name)
        raise DocumentMissing(
            _("The file of this document is missing from the document store."), code="missing"
        ) from None
    except STORAGE_ERRORS as exc:
        log.error("document store failed during a download: %r", exc)
        raise StorageUnavailable(
            _("The document store is not reachable. Try again in a few minutes."), code="storage_unavailable"
        ) from exc


def delete_document(*, document, by):
    """Remove the row (with an audit event), then its object once that is committed."""
    require(can_delete(by, document))
    name = document.file.name
    with transaction.atomic():
        trail.record(
            action="document_deleted",
            actor=by,
            application=document.application,
            data={
                "document": document.pk,
                "kind": document.kind,
                "sha256": document.sha256,
                "before": {"document": document.pk, "kind": document.kind, "sha256": document.sha256},
                "after": None,
            },
        )
        document.delete()
        transaction.on_commit(lambda: _delete_object(name))


def download_filename(document):
    base, _ext = os.path.splitext(document.original_name)
    return f"{base or 'document'}.{EXTENSIONS.get(document.content_type, 'bin')}"


# ---- orphans -------------------------------------------------------------------------------
