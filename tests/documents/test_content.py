"""What a file may contain beyond its type: PDFs that run code, carry files or are web
pages too, and archives that unpack to far more than they weigh, are refused and leave
nothing behind. Runs on local files and on S3."""

import io
import struct
import time
import tracemalloc
import zipfile
import zlib

import pytest
from pypdf import PdfWriter

from demo.seed import tiny_pdf

from .support import assert_nothing_stored, docx, post_document

pytestmark = pytest.mark.django_db

CATALOG = b"<</Type/Catalog/Pages 2 0 R%s>>"
PAGES = b"<</Type/Pages/Kids[]/Count 0>>"


def pdf_with(catalog_extra=b"", *more):
    return tiny_pdf(CATALOG % catalog_extra, PAGES, *more)


def upload_plan(api, world, data, name="plan.pdf"):
    return post_document(
        api(world.applicant), world.application(), kind="business_plan", name=name, data=data
    )


def assert_refused(response, store, status, code):
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert_nothing_stored(store)


ACTIVE_PDFS = {
    "javascript opening the file": pdf_with(b"/OpenAction 3 0 R", b"<</S/JavaScript/JS(app.alert(1))>>"),
    "javascript under an obfuscated name": pdf_with(
        b"/OpenAction 3 0 R", b"<</S/J#61vaScript/J#53(app.alert(1))>>"
    ),
    "a document-level script": pdf_with(b"/Names<</JavaScript 3 0 R>>", b"<</Names[(a) 4 0 R]>>"),
    "an attached file": pdf_with(b"/Names<</EmbeddedFiles 3 0 R>>", b"<</Names[(cv.exe) 4 0 R]>>"),
    "a program to launch": pdf_with(b"/OpenAction<</S/Launch/F(cmd.exe)>>"),
    "actions on opening a page": tiny_pdf(
        CATALOG % b"", b"<</Type/Pages/Kids[3 0 R]/Count 1>>", b"<</Type/Page/Parent 2 0 R/AA<</O 4 0 R>>>>"
    ),
    "an XFA form": pdf_with(b"/AcroForm<</Fields[]/XFA 3 0 R>>", b"<<>>"),
    "rich media": pdf_with(b"", b"<</Type/Annot/Subtype/RichMedia/RichMediaContent<<>>>>"),
    "an unreferenced object with a script": pdf_with(b"", b"<</S/JavaScript/JS(app.alert(1))>>"),
}


@pytest.mark.parametrize("data", ACTIVE_PDFS.values(), ids=ACTIVE_PDFS.keys())
def test_a_pdf_that_runs_code_or_carries_files_is_refused(world, api, store, data):
    assert_refused(upload_plan(api, world, data), store, 415, "active_content")


def test_a_script_left_out_of_the_cross_references_is_found_in_the_bytes(world, api, store):
    """A viewer rebuilding a damaged file's table would find object 9; the parser, reading
    the intact table, does not."""
    data = pdf_with() + b"9 0 obj<</S/J#61vaScript/JS(app.alert(1))>>endobj\n"
    assert_refused(upload_plan(api, world, data), store, 415, "active_content")


def object_stream_pdf(hidden):
    """A PDF 1.5 whose objects 3 and 4 sit compressed in an object stream (object 5),
    found through a cross-reference stream (object 6): no name of theirs is in the
    file's bytes."""
    packed = b"<</Type/Pages/Kids[]/Count 0>> " + hidden
    header = b"2 0 4 %d " % (len(b"<</Type/Pages/Kids[]/Count 0>> "))
    objstm = zlib.compress(header + packed)
    body = b"%PDF-1.5\n"
    offsets = {1: len(body)}
    body += b"1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction 4 0 R>>endobj\n"
    offsets[5] = len(body)
    body += b"5 0 obj<</Type/ObjStm/N 2/First %d/Filter/FlateDecode/Length %d>>stream\n" % (
        len(header),
        len(objstm),
    )
    body += objstm + b"\nendstream\nendobj\n"
    offsets[6] = len(body)
    # (type, offset or stream, generation or index): 0 free, 1 in the file, 2 in a stream.
    rows = [
        (0, 0, 255),
        (1, offsets[1], 0),
        (2, 5, 0),
        (0, 0, 0),
        (2, 5, 1),
        (1, offsets[5], 0),
        (1, offsets[6], 0),
    ]
    table = b"".join(struct.pack(">BIB", *row) for row in rows)
    body += b"6 0 obj<</Type/XRef/Size 7/W[1 4 1]/Root 1 0 R/Length %d>>stream\n" % len(table)
    body += table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[6]
    return body


def test_a_script_hidden_in_a_compressed_object_stream_is_found(world, api, store):
    data = object_stream_pdf(b"<</S/JavaScript/JS(app.alert(1))>>")
    assert b"JavaScript" not in data
    assert_refused(upload_plan(api, world, data), store, 415, "active_content")


def test_a_pdf_with_a_harmless_object_stream_is_accepted(world, api, store):
    response = upload_plan(api, world, object_stream_pdf(b"<</S/GoTo/D[0/Fit]>>"))
    assert response.status_code == 201, response.content


def test_a_pdf_that_is_also_a_web_page_is_refused(world, api, store):
    data = tiny_pdf(CATALOG % b"", PAGES) + b"%<html><body><SCRIPT>fetch('/api/v1/')</script>\n"
    assert_refused(upload_plan(api, world, data), store, 415, "polyglot")


def test_a_web_page_that_starts_before_the_pdf_is_not_a_pdf_at_all(world, api, store):
    data = b"<html><script>alert(1)</script>" + tiny_pdf(CATALOG % b"", PAGES)
    assert_refused(upload_plan(api, world, data), store, 415, "unsupported_type")


def test_a_password_protected_pdf_is_refused_since_it_cannot_be_checked(world, api, store):
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    assert_refused(upload_plan(api, world, out.getvalue()), store, 415, "encrypted_pdf")


def test_a_pdf_that_cannot_be_read_is_refused(world, api, store):
    assert_refused(upload_plan(api, world, b"%PDF-1.7\n" + b"\x00garbage" * 100), store, 415, "bad_pdf")


def test_a_real_pdf_with_pages_and_links_is_accepted(world, api, store):
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_uri(0, "https://example.org", [50, 50, 200, 80])
    out = io.BytesIO()
    writer.write(out)
    assert upload_plan(api, world, out.getvalue()).status_code == 201


# ---- archives -------------------------------------------------------------------------


def zip_bomb(expanded=1024**3):
    """A DOCX whose document.xml unpacks to `expanded` bytes of zeros, written in 1 MB
    pieces: about 1 MB on disk for 1 GiB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            block = b"\0" * (1024 * 1024)
            for _ in range(expanded // len(block)):
                entry.write(block)
    return out.getvalue()


@pytest.fixture(scope="module")
def gigabyte_bomb():
    return zip_bomb()


def test_a_zip_bomb_docx_is_refused_quickly_with_little_memory(world, api, store, gigabyte_bomb):
    assert len(gigabyte_bomb) < 8 * 1024 * 1024
    tracemalloc.start()
    started = time.monotonic()
    response = upload_plan(api, world, gigabyte_bomb, name="plan.docx")
    took = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert_refused(response, store, 413, "archive_too_large")
    assert "would unpack to 1.0 GB, more than the 100.0 MB we accept" in response.json()["detail"]
    assert took < 2
    assert peak < 32 * 1024 * 1024


def test_an_archive_packed_far_tighter_than_a_document_is_refused(world, api, store):
    # 50 MB of zeros: under the size limit, but a thousandfold compression.
    assert_refused(
        upload_plan(api, world, zip_bomb(50 * 1024**2), name="plan.docx"), store, 413, "archive_too_large"
    )


def test_an_archive_of_thousands_of_files_is_refused(world, api, store):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(2000):
            archive.writestr(f"word/media/{number}.xml", "")
    assert_refused(upload_plan(api, world, out.getvalue(), name="plan.docx"), store, 413, "archive_too_large")


def test_an_archive_whose_directory_understates_a_size_is_refused(world, api, store):
    """The directory says 20 bytes; the member inflates to a megabyte. Only 20 bytes are
    inflated, and the checksum over them does not match."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document/>" + b" " * 1024 * 1024)
    data = bytearray(out.getvalue())
    directory = data.rindex(b"PK\x01\x02")  # the last member's central directory entry
    data[directory + 24 : directory + 28] = struct.pack("<I", 20)
    assert_refused(upload_plan(api, world, bytes(data), name="plan.docx"), store, 415, "bad_archive")


def test_an_ordinary_docx_is_still_accepted(world, api, store):
    assert upload_plan(api, world, docx(), name="plan.docx").status_code == 201
