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

import datetime
import hashlib
import logging
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from applicants import roles
from applicants.sensitivity import sensitive_access
from audit import trail
from core.decisions import ALLOWED, Decision
from core.errors import ServiceError, require

from . import filechecks, permissions
from .images import strip_metadata
from .models import Document, DocumentKind
from .services import maybe_complete_delivery

log = logging.getLogger(__name__)

PDF, JPEG, PNG, DOCX, ODT = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
)
SCANS = {PDF, JPEG, PNG}
ALLOWED_TYPES = {
    DocumentKind.ID_DOCUMENT: SCANS,
    DocumentKind.BUSINESS_PLAN: {PDF, DOCX, ODT},
    DocumentKind.RELEASE_CERTIFICATE: SCANS,
    DocumentKind.RETURN_CERTIFICATE: SCANS,
    DocumentKind.SUPPLIER_QUOTE: SCANS,
    DocumentKind.HANDOVER_PROTOCOL: SCANS,
    DocumentKind.PHOTO: {JPEG, PNG},
    DocumentKind.OTHER: {PDF, JPEG, PNG, DOCX, ODT},
}
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png", DOCX: "docx", ODT: "odt"}
IMAGES = {JPEG, PNG}
ARCHIVES = {DOCX, ODT}
# Which kinds an applicant may upload themselves; staff may upload any kind.
APPLICANT_KINDS = {
    DocumentKind.ID_DOCUMENT,
    DocumentKind.BUSINESS_PLAN,
    DocumentKind.RELEASE_CERTIFICATE,
    DocumentKind.RETURN_CERTIFICATE,
    DocumentKind.SUPPLIER_QUOTE,
    DocumentKind.PHOTO,
    DocumentKind.OTHER,
}
# A release certificate says the person was in prison, a return certificate that they
# were sent back: only those who see the sensitive facts see these documents.
SENSITIVE_KINDS = set(permissions.DOCUMENT_CLASSES)
CLOSED_STATES = {"rejected", "withdrawn", "cancelled", "completed", "discontinued"}
# Once the equipment is handed over, the signed protocol is the evidence and stays.
PROTOCOL_LOCKED_STATES = {"equipment_delivered", "follow_up", "completed", "discontinued"}
# Room for the multipart boundaries and the other form fields around the file.
MULTIPART_OVERHEAD = 64 * 1024
KEY_PREFIX = "documents/"
CHUNK = 1024 * 1024

S3_ERRORS = (BotoCoreError, ClientError, Boto3Error)
STORAGE_ERRORS = (OSError, *S3_ERRORS)


class UploadTooLarge(ServiceError):
    status = 413


class UnsupportedType(ServiceError):
    status = 415


class StorageUnavailable(ServiceError):
    status = 503


class DocumentMissing(ServiceError):
    status = 404


def max_bytes(kind):
    return settings.DOCUMENT_MAX_BYTES_PER_KIND.get(kind, settings.DOCUMENT_MAX_BYTES)


def human_size(nbytes):
    return filesizeformat(nbytes).replace("\xa0", " ")


def largest_upload():
    return max(max_bytes(kind) for kind in DocumentKind.values)


def check_request_size(content_length):
    """Refuse a request body that cannot hold an allowed document, before reading it."""
    try:
        length = int(content_length or 0)
    except ValueError:
        length = 0
    limit = largest_upload()
    if length > limit + MULTIPART_OVERHEAD:
        raise UploadTooLarge(
            _("The upload is larger than %(limit)s, the most any document may be.")
            % {"limit": human_size(limit)},
            code="too_large",
        )


def sniff(head, fileobj):
    """The content type decided by the bytes, never by the name or the client."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(fileobj)
    return None


def _sniff_zip(fileobj):
    """DOCX and ODT are zip archives; only their directory and the tiny `mimetype`
    entry are read (a zip bomb is never inflated)."""
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    if entry.read(len(ODT) + 2).strip() == ODT.encode():
                        return ODT
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return DOCX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, KeyError, ValueError, EOFError):
        return None
    finally:
        fileobj.seek(0)
    return None


def allowed_types_label(kind):
    return ", ".join(sorted(EXTENSIONS[t].upper() for t in ALLOWED_TYPES[kind]))


def clean_name(name):
    """The original name, kept as metadata only: no folders, control characters or
    characters that break a download header; at most 200 characters, extension kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if len(name) > 200:
        base, ext = os.path.splitext(name)
        ext = ext[:16]
        name = base[: 200 - len(ext)] + ext
    return name or "document"


def can_upload(user, application, kind):
    seen = permissions.can_view_application(user, application)
    if not seen:
        return seen
    if not roles.is_staff_member(user) and permissions.is_own(user, application):
        if kind not in APPLICANT_KINDS:
            return Decision(False, _("This kind of document is uploaded by staff."))
        if application.state in CLOSED_STATES:
            return Decision(False, _("This application is closed."))
        return ALLOWED
    if not user.has_perm("grants.add_document"):
        return Decision(False, _("Your role cannot upload documents."))
    if permissions.is_party(user, application):
        return Decision(False, _("You cannot act on your own application."))
    if kind in SENSITIVE_KINDS:
        allowed, reason = sensitive_access(user, application.applicant)
        if not allowed:
            return Decision(False, reason)
    return ALLOWED


def can_download(user, document):
    return permissions.can_view_document(user, document)


def can_delete(user, document):
    """The uploader takes back their own upload, and the centre's field officers tidy
    up any, while the application is open; delivery evidence always stays."""
    application = document.application
    seen = can_download(user, document)
    if not seen:
        return seen
    if document.kind == DocumentKind.HANDOVER_PROTOCOL and application.state in PROTOCOL_LOCKED_STATES:
        return Decision(False, _("The signed handover protocol of a delivery stays on file."))
    if application.state in CLOSED_STATES:
        return Decision(False, _("This application is closed; its documents stay on file."))
    may_upload = can_upload(user, application, document.kind)
    if not may_upload:
        return may_upload
    if document.uploaded_by_id != user.pk and not (
        roles.is_staff_member(user) and roles.has_role(user, roles.FIELD_OFFICER)
    ):
        return Decision(False, _("You can remove only the documents you added."))
    return ALLOWED


def visible_documents(user, application):
    """The documents of an application the caller may see (the application itself
    must already be visible to them)."""
    documents = Document.objects.filter(application=application).order_by("-created_at", "-id")
    return permissions.visible_documents(user, application, documents)


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
            trail.record(
                action="document_uploaded",
                actor=by,
                application=application,
                on_behalf_of=document.on_behalf_of,
                data={"document": document.pk, "kind": kind, "sha256": sha256},
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
    return stored


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


@dataclass(frozen=True)
class OrphanObject:
    key: str
    size: int | None
    modified: object


@dataclass(frozen=True)
class Orphans:
    objects: list  # OrphanObject: objects under documents/ without a row
    rows: list  # Document: rows whose object is gone
    young: int  # objects without a row yet, but possibly an upload still in progress


def _walk(storage, prefix):
    try:
        folders, files = storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{prefix}{name}"
    for folder in sorted(folders):
        yield from _walk(storage, f"{prefix}{folder}/")


def find_orphans(*, older_than_minutes=60, storage=None):
    """Objects without a row and rows without an object. Rows are read first, so an
    upload finishing meanwhile shows at most as an object without a row, and such
    objects count only once they are older than any upload could take."""
    storage = storage or default_storage
    rows = dict(Document.objects.values_list("file", "pk"))
    keys = set()
    objects, young = [], 0
    cutoff = timezone.now() - datetime.timedelta(minutes=older_than_minutes)
    for key in _walk(storage, KEY_PREFIX):
        keys.add(key)
        if key in rows:
            continue
        modified = storage.get_modified_time(key)
        if modified > cutoff:
            young += 1
            continue
        objects.append(OrphanObject(key, storage.size(key), modified))
    # A row outside documents/ (an older layout) was not listed: ask for its object.
    missing = [
        pk
        for name, pk in rows.items()
        if name not in keys and (name.startswith(KEY_PREFIX) or not storage.exists(name))
    ]
    documents = list(Document.objects.filter(pk__in=missing).select_related("application").order_by("pk"))
    return Orphans(objects=objects, rows=documents, young=young)


def remove_orphans(orphans, *, storage=None):
    """Delete what find_orphans reported, checking each again first: an object that
    gained a row, or a row whose object reappeared, is left alone."""
    storage = storage or default_storage
    removed_objects = removed_rows = 0
    for orphan in orphans.objects:
        if Document.objects.filter(file=orphan.key).exists():
            continue
        storage.delete(orphan.key)
        removed_objects += 1
    for document in orphans.rows:
        if storage.exists(document.file.name):
            continue
        with transaction.atomic():
            trail.record(
                action="document_lost",
                application=document.application,
                data={
                    "document": document.pk,
                    "kind": document.kind,
                    "sha256": document.sha256,
                    "key": document.file.name,
                    "before": {"document": document.pk, "kind": document.kind, "sha256": document.sha256},
                    "after": None,
                },
            )
            Document.objects.filter(pk=document.pk).delete()
        removed_rows += 1
    return removed_objects, removed_rows
