"""Helpers and sample files for the document suite."""

import io
import struct
import zipfile
import zlib
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, PngImagePlugin

from grants.models import AuditEvent, Document

from ..factories import PDF_BYTES


class Folder:
    """The local document folder (MEDIA_ROOT), read directly."""

    backend = "local"

    def __init__(self, root):
        self.root = Path(root)

    def keys(self):
        if not self.root.exists():
            return set()
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}

    def read(self, key):
        return (self.root / key).read_bytes()

    def put(self, key, data):
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def remove(self, key):
        (self.root / key).unlink()


def documents_url(application):
    return f"/api/v1/applications/{application.pk}/documents/"


def download_url(document):
    return f"/api/v1/documents/{document.pk}/download/"


def post_document(client, application, *, kind, name, data, content_type="application/pdf"):
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(documents_url(application), {"kind": kind, "file": upload}, format="multipart")


def multipart(fields, *, file_field, filename, data, content_type="application/pdf"):
    """A multipart body built by hand, so the filename is sent exactly as given."""
    boundary = "----documents-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def uploaded_events(application=None):
    events = AuditEvent.objects.filter(action="document_uploaded")
    if application is not None:
        events = events.filter(application=application)
    return events


def assert_nothing_stored(store):
    assert Document.objects.count() == 0
    assert not uploaded_events().exists()
    assert store.keys() == set()


# ---- sample files ------------------------------------------------------------------------


def pdf(tag=b""):
    return PDF_BYTES + b"%" + tag + b"\n"


EXECUTABLE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode.\r\n"
)
HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/applications/')</script></body></html>"
HOME = ((43, 1), (19, 1), (1234, 100))  # degrees, minutes, seconds as rationals


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="43,19.2N"/></x:xmpmeta>'


def jpeg(size=(64, 48), *, gps=True, orientation=None, comment=None, xmp=None):
    image = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Model X"
    exif[ExifTags.Base.BodySerialNumber] = "SN-0042"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        gps_info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps_info[ExifTags.GPS.GPSLatitudeRef] = "N"
        gps_info[ExifTags.GPS.GPSLatitude] = (43.0, 19.0, 12.34)
        gps_info[ExifTags.GPS.GPSLongitudeRef] = "E"
        gps_info[ExifTags.GPS.GPSLongitude] = (21.0, 53.0, 45.6)
    out = io.BytesIO()
    options = {"exif": exif}
    if comment:
        options["comment"] = comment
    if xmp:
        options["xmp"] = xmp
    image.save(out, format="JPEG", quality=85, **options)
    return out.getvalue()


def png(*, mode="RGBA", text=True):
    image = Image.new(mode, (32, 16))
    if mode == "P":
        image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
        image.paste(1, (0, 0, 16, 16))
        image.paste(2, (16, 0, 32, 16))
    else:
        image.paste((10, 120, 200, 255), (0, 0, 32, 16))
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Location", "43.3209 N, 21.8958 E")
        info.add_itxt("Comment", "Marko's home")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def png_bomb(side=6320):
    """A valid black PNG of side × side pixels, built row by row so that neither the test
    nor Pillow ever holds its pixels: 6320 × 6320 (40 megapixels, about 120 MB decoded)
    is some 120 KB on disk."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    squeeze = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * side)  # filter byte, then RGB
    idat = b"".join(squeeze.compress(row) for _ in range(side)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def docx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return out.getvalue()


def odt():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
    return out.getvalue()


def plain_zip():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", EXECUTABLE)
    return out.getvalue()
