"""Documents: uploads checked by content, stored under generated keys, served only
after a permission check. Nothing half-done is left behind: a failed upload leaves no
row and no object."""

import hashlib
import logging
import os
import re
import unicodedata
import zipfile

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from applicants import roles

from . import audit, permissions
from .errors import NotAllowed, NotVisible, ServiceError
from .models import Document, DocumentKind

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


class UploadTooLarge(ServiceError):
    status = 413


class UnsupportedType(ServiceError):
    status = 415


def max_bytes(kind):
    return getattr(settings, "DOCUMENT_MAX_BYTES_PER_KIND", {}).get(kind, settings.DOCUMENT_MAX_BYTES)


def sniff(head, fileobj):
    """The content type decided by the bytes, never by the name or the client."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04"):
        try:
            fileobj.seek(0)
            with zipfile.ZipFile(fileobj) as archive:
                names = set(archive.namelist())
                if "mimetype" in names and archive.read("mimetype").strip() == ODT.encode():
                    return ODT
                if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
                    return DOCX
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
        finally:
            fileobj.seek(0)
    return None


def clean_name(name):
    """Keep the original name as metadata only, without paths or control characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip().lstrip(".")
    return (name or "document")[:200]


def can_upload(user, application, kind):
    seen = permissions.can_view_application(user, application)
    if not seen:
        return seen
    if permissions.is_own(user, application) and not roles.is_staff_member(user):
        if kind not in APPLICANT_KINDS:
            return permissions.Decision(False, _("This kind of document is uploaded by staff."))
        if application.state in ("rejected", "withdrawn", "cancelled", "completed", "discontinued"):
            return permissions.Decision(False, _("This application is closed."))
        return permissions.ALLOWED
    if not user.has_perm("grants.add_document"):
        return permissions.Decision(False, _("Your role cannot upload documents."))
    if permissions.is_party(user, application):
        return permissions.Decision(False, _("You cannot act on your own application."))
    return permissions.ALLOWED


def can_download(user, document):
    seen = permissions.can_view_application(user, document.application)
    if not seen:
        return seen
    if not user.has_perm("grants.view_document"):
        return permissions.Decision(False, _("Your role cannot open documents."))
    return permissions.ALLOWED


def upload_document(*, application, by, kind, uploaded_file):
    """Check, store and record one document. Raises UploadTooLarge (413), UnsupportedType
    (415), ServiceError (400: empty, duplicate, unknown kind) or a permission error."""
    if kind not in DocumentKind.values:
        raise ServiceError(
            _("Unknown document kind."), details={"kind": [_("Choose a document kind from the list.")]}
        )
    decision = can_upload(by, application, kind)
    if not decision:
        if not decision.visible:
            raise NotVisible()
        raise NotAllowed(decision.reason)
    limit = max_bytes(kind)
    size = getattr(uploaded_file, "size", None) or 0
    if size > limit:
        raise UploadTooLarge(
            _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}, code="too_large"
        )
    if size == 0:
        raise ServiceError(_("The file is empty."), code="empty", details={"file": [_("The file is empty.")]})
    uploaded_file.seek(0)
    head = uploaded_file.read(8)
    content_type = sniff(head, uploaded_file)
    if content_type is None or content_type not in ALLOWED_TYPES[kind]:
        allowed = ", ".join(sorted(EXTENSIONS[t].upper() for t in ALLOWED_TYPES[kind]))
        raise UnsupportedType(
            _("This file type is not allowed for this kind of document (allowed: %(types)s).")
            % {"types": allowed},
            code="unsupported_type",
        )
    stream = uploaded_file
    if content_type in (JPEG, PNG):
        from .images import strip_metadata

        stream = strip_metadata(uploaded_file, content_type)
    digest = hashlib.sha256()
    stream.seek(0)
    size = 0
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    sha256 = digest.hexdigest()
    if Document.objects.filter(application=application, sha256=sha256).exists():
        raise ServiceError(
            _("This file is already attached to this application."),
            code="duplicate",
            details={"file": [_("Already uploaded.")]},
        )
    stream.seek(0)
    document = Document(
        application=application,
        kind=kind,
        original_name=clean_name(getattr(uploaded_file, "name", "")),
        size=size,
        content_type=content_type,
        sha256=sha256,
        uploaded_by=by,
        on_behalf_of=application.applicant if permissions.acts_on_behalf(by, application) else None,
    )
    from django.core.files import File

    stored_name = None
    try:
        with transaction.atomic():
            document.file.save(f"upload.{EXTENSIONS[content_type]}", File(stream), save=False)
            stored_name = document.file.name
            document.save()
            audit.record(
                action="document_uploaded",
                actor=by,
                application=application,
                on_behalf_of=document.on_behalf_of,
                data={"document": document.pk, "kind": kind, "sha256": sha256},
            )
    except ServiceError:
        raise
    except Exception as exc:
        if stored_name:
            _delete_object(stored_name)
            raise
        log.error("storage failed during upload: %s", exc)
        raise ServiceError(
            _("The document store is not reachable; nothing was saved. Try again shortly."),
            code="storage_unavailable",
        ) from exc
    if kind == DocumentKind.HANDOVER_PROTOCOL:
        # The signed protocol may be the last thing missing: take record_delivery now.
        from .services import maybe_complete_delivery

        application.refresh_from_db()
        maybe_complete_delivery(application=application, by=by)
    return document


def _delete_object(name):
    try:
        default_storage.delete(name)
    except Exception:  # noqa: BLE001 - sweep_orphans finds what could not be removed
        log.exception("could not remove orphan object %s", name)


def record_download(*, document, by):
    decision = can_download(by, document)
    if not decision:
        if not decision.visible:
            raise NotVisible()
        raise NotAllowed(decision.reason)
    audit.record(
        action="document_downloaded",
        actor=by,
        application=document.application,
        data={"document": document.pk, "kind": document.kind},
    )


@transaction.atomic
def delete_document(*, document, by):
    decision = can_upload(by, document.application, document.kind)
    if not decision:
        if not decision.visible:
            raise NotVisible()
        raise NotAllowed(decision.reason)
    name = document.file.name
    audit.record(
        action="document_deleted",
        actor=by,
        application=document.application,
        data={"document": document.pk, "kind": document.kind, "sha256": document.sha256},
    )
    document.delete()
    transaction.on_commit(lambda: _delete_object(name))


def download_filename(document):
    base, _ext = os.path.splitext(document.original_name)
    return f"{base or 'document'}.{EXTENSIONS.get(document.content_type, 'bin')}"
