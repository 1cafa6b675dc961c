"""What an uploaded file may contain, beyond its type: no PDF that runs code or carries
other files, no PDF that is also a web page, no archive that expands beyond reason.

Staff open these files on their own computers; a business plan that runs JavaScript in
the PDF viewer, launches a program or unpacks to gigabytes in the word processor is an
attack on them, whatever the service itself does with it (it only stores and serves the
bytes). Both checks read the file in bounded pieces: a PDF one object at a time, an
archive's directory and then each member inflated to at most its declared size.
"""

import logging
import re
import zipfile
import zlib

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from core.errors import ServiceError

# Keys and action types by which a PDF runs code, opens other programs or files, or
# carries files of its own (PDF 2.0, 12.6 and 7.11). Names are compared after pypdf
# has decoded #xx escapes, so /J#61vaScript is /JavaScript here.
ACTIVE_KEYS = {
    "/JavaScript",
    "/JS",
    "/AA",
    "/Launch",
    "/EmbeddedFiles",
    "/EmbeddedFile",
    "/RichMedia",
    "/XFA",
}
ACTIVE_NAMES = {
    "/JavaScript",
    "/Launch",
    "/GoToE",
    "/ImportData",
    "/RichMedia",
    "/RichMediaExecute",
    "/FileAttachment",
}
# A PDF that is also an HTML page: opened as a page, its script runs under our origin.
HTML_MARKERS = re.compile(rb"<\s*(?:html|script|!doctype\s+html)", re.IGNORECASE)
# The same names found in the raw bytes, #xx escapes decoded: a viewer that rebuilds a
# damaged file's cross-references may find objects the parser does not. Only the long
# names: /JS or /AA turn up by chance in the binary data of any large scan.
RAW_NAME = re.compile(rb"/((?:[A-Za-z0-9]|#[0-9A-Fa-f]{2}){6,64})")
RAW_ACTIVE_NAMES = {
    b"JavaScript",
    b"EmbeddedFile",
    b"EmbeddedFiles",
    b"Launch",
    b"RichMedia",
    b"RichMediaContent",
}
SCAN_BLOCK = 1024 * 1024

# Archives (DOCX, ODT): a real document of a few megabytes expands to a few tens.
ARCHIVE_MAX_MEMBERS = 2000
ARCHIVE_MAX_EXPANDED = 100 * 1024 * 1024
# Text compresses about tenfold, pictures not at all; a zip bomb a thousandfold.
ARCHIVE_MAX_RATIO = 100
# Below this a member's ratio is not looked at (a tiny XML part of repeated tags).
ARCHIVE_RATIO_FLOOR = 1024 * 1024

log = logging.getLogger(__name__)


class RefusedContent(ServiceError):
    status = 415


class ArchiveTooLarge(ServiceError):
    status = 413


def _active_pdf():
    return RefusedContent(
        _(
            "This PDF contains scripts, attached files or actions that open other programs, "
            "which we do not accept. Print it to a new PDF (or scan the paper) and upload that."
        ),
        code="active_content",
    )


def _unreadable_pdf():
    return RefusedContent(
        _("This PDF cannot be read, so it cannot be checked. Save it again as a PDF and upload that."),
        code="bad_pdf",
    )


def check_pdf(fileobj):
    """Refuse a PDF that is also an HTML page, runs code, or embeds files."""
    try:
        _scan_bytes(fileobj)
        fileobj.seek(0)
        reader = PdfReader(fileobj, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise RefusedContent(
                _("This PDF is protected with a password, so it cannot be checked. Upload it without one."),
                code="encrypted_pdf",
            )
        _check_objects(reader)
    except ServiceError:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser fed hostile bytes fails in any way; all mean "unreadable"
        log.info("PDF refused as unreadable: %r", exc)
        raise _unreadable_pdf() from None
    finally:
        fileobj.seek(0)


def _scan_bytes(fileobj):
    fileobj.seek(0)
    tail = b""
    for block in iter(lambda: fileobj.read(SCAN_BLOCK), b""):
        window = tail + block
        if HTML_MARKERS.search(window):
            raise RefusedContent(
                _("This file is a PDF and a web page at once, which we do not accept."), code="polyglot"
            )
        for match in RAW_NAME.finditer(window):
            if _unescaped(match[1]) in RAW_ACTIVE_NAMES:
                raise _active_pdf()
        tail = block[-200:]


def _unescaped(name):
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), name)


def _check_objects(reader):
    """Every object of the cross-reference table, whether or not anything points at it
    (an object left out of the table is for _scan_bytes)."""
    _inspect(reader.trailer)
    for generation, numbers in reader.xref.items():
        for number in numbers:
            _inspect(reader.get_object(IndirectObject(number, generation, reader)))
            # One object at a time: streams (page scans) are not kept once looked at.
            reader.resolved_objects.clear()
    # Objects packed in compressed object streams, grouped by their stream so that
    # each stream is inflated once.
    by_stream = sorted(reader.xref_objStm.items(), key=lambda item: item[1][0])
    current = None
    for number, (stream, _index) in by_stream:
        if stream != current:
            reader.resolved_objects.clear()
            current = stream
        _inspect(reader.get_object(IndirectObject(number, 0, reader)))
    reader.resolved_objects.clear()


def _inspect(obj):
    """Refuse on an active key or name anywhere inside one object (references to other
    objects are not followed: those are inspected on their own)."""
    pending = [obj]
    while pending:
        item = pending.pop()
        if isinstance(item, DictionaryObject):
            if ACTIVE_KEYS.intersection(item.keys()):
                raise _active_pdf()
            pending.extend(item.values())
        elif isinstance(item, ArrayObject):
            pending.extend(item)
        elif isinstance(item, NameObject) and item in ACTIVE_NAMES:
            raise _active_pdf()


def check_archive(fileobj):
    """Refuse a zip (DOCX, ODT) with too many members, or that expands too much: by its
    directory first, then by inflating every member to at most its declared size (a
    directory that understates a size does not get more), 64 KB at a time."""
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
            if len(members) > ARCHIVE_MAX_MEMBERS:
                raise _too_many_members()
            declared = sum(member.file_size for member in members)
            if declared > ARCHIVE_MAX_EXPANDED:
                raise _expands_too_much(declared)
            for member in members:
                if member.file_size > ARCHIVE_RATIO_FLOOR and member.file_size > ARCHIVE_MAX_RATIO * max(
                    member.compress_size, 1
                ):
                    raise ArchiveTooLarge(
                        _(
                            "This document is packed far tighter than a real document can be, "
                            "as files made to exhaust a computer are. We do not accept it."
                        ),
                        code="archive_too_large",
                    )
            for member in members:
                _inflate(archive, member)
    except ServiceError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, zlib.error):
        raise RefusedContent(
            _("This document cannot be read as an archive, so it cannot be checked."), code="bad_archive"
        ) from None
    finally:
        fileobj.seek(0)


def _inflate(archive, member):
    # zipfile stops at the declared size and checks the CRC at the end (BadZipFile
    # otherwise), so a member costs at most what the directory admitted.
    with archive.open(member) as entry:
        while entry.read(64 * 1024):
            pass


def _too_many_members():
    return ArchiveTooLarge(
        _("This document holds more than %(count)s files inside; it cannot be a normal document.")
        % {"count": ARCHIVE_MAX_MEMBERS},
        code="archive_too_large",
    )


def _expands_too_much(declared):
    return ArchiveTooLarge(
        _(
            "This document would unpack to %(size)s, more than the %(limit)s we accept. "
            "Save it again without large pictures, or as a PDF."
        )
        % {
            "size": filesizeformat(declared).replace("\xa0", " "),
            "limit": filesizeformat(ARCHIVE_MAX_EXPANDED).replace("\xa0", " "),
        },
        code="archive_too_large",
    )
