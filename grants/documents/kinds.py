"""What may be uploaded: kinds, types told from the bytes, sizes, names."""

import os
import re
import unicodedata
import zipfile

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core.errors import ServiceError

from .. import permissions
from ..models import DocumentKind

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
    DocumentKind.SIGNED_CONTRACT: SCANS,
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
