"""Uploads and downloads stream: a 50 MB document moves through the whole stack (WSGI,
multipart parsing, checks, checksum, storage) without the process holding it in memory.

The request goes through Django's WSGI handler with the body read from a file, as a
server hands it over; the S3 server runs in a child process so its copy of the bytes is
not counted here. Peak memory is measured twice: Python's allocations (tracemalloc) and
the process's resident size (psutil, sampled during the request)."""

import gc
import hashlib
import io
import os
import sys
import threading
import tracemalloc

import psutil
import pytest
import requests
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from grants.models import Document

from ..factories import api_key
from ..s3server import Bucket, moto_in_child, use_s3
from .support import Folder, documents_url, download_url

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MB = 1024 * 1024
SIZE = 50 * MB
STREAM = 256 * 1024
# "A few MB": what the stack may hold at once, whatever the document's size.
PYTHON_PEAK = 4 * MB
RSS_PEAK = 16 * MB
BOUNDARY = "memory-test-boundary"


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def big_store(request, settings, tmp_path):
    settings.DOCUMENT_MAX_BYTES = SIZE + MB
    (tmp_path / "spool").mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    if request.param == "local":
        yield Folder(settings.MEDIA_ROOT)
        return
    with moto_in_child() as endpoint:
        bucket = Bucket(endpoint)
        use_s3(settings, endpoint, bucket.name)
        yield bucket


def write_body(path, size):
    """A multipart body on disk holding a PDF of about `size` bytes (page-sized streams of
    random bytes, as scans are, each 256 KB); returns its SHA-256 and exact size."""
    digest = hashlib.sha256()
    block = os.urandom(STREAM)
    written = 0
    offsets = []

    def put(data):
        nonlocal written
        out.write(data)
        digest.update(data)
        written += len(data)

    with open(path, "wb") as out:
        out.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nbusiness_plan\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big plan.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
        )
        put(b"%PDF-1.7\n")
        offsets.append(written)
        put(b"1 0 obj<</Type/Catalog>>endobj\n")
        while written < size - STREAM:
            offsets.append(written)
            put(b"%d 0 obj<</Length %d>>stream\n%s\nendstream\nendobj\n" % (len(offsets), STREAM, block))
        table = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        count = len(offsets) + 1
        put(
            b"xref\n0 %d\n0000000000 65535 f \n%strailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n"
            % (count, table, count, written)
        )
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return digest.hexdigest(), written


class Peak:
    """Peak Python allocations and peak resident size while the block runs."""

    def __enter__(self):
        self.process = psutil.Process()
        gc.collect()
        tracemalloc.start()
        self.base = tracemalloc.get_traced_memory()[0]
        self.rss_base = self.rss_max = self.process.memory_info().rss
        self.running = True
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        return self

    def _sample(self):
        while self.running:
            self.rss_max = max(self.rss_max, self.process.memory_info().rss)
            threading.Event().wait(0.005)

    def __exit__(self, *exc):
        self.running = False
        self.sampler.join()
        self.python = tracemalloc.get_traced_memory()[1] - self.base
        tracemalloc.stop()
        self.rss = self.rss_max - self.rss_base
        print(f"peak python {self.python / MB:.2f} MB, peak rss +{self.rss / MB:.2f} MB", file=sys.stderr)


class Server:
    """Django's WSGI handler, called as a WSGI server calls it."""

    def __init__(self, token):
        self.handler = WSGIHandler()
        self.token = token

    def __call__(self, method, path, *, body=None, length=0, content_type=""):
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "localhost",
            "HTTP_AUTHORIZATION": f"Token {self.token}",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(length),
            "wsgi.input": body or io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = dict(headers)

        digest, size = hashlib.sha256(), 0
        # As with Django's test client, the test's connection (and transaction) must
        # survive the request's start and end.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = self.handler(environ, start_response)
            try:
                for chunk in result:
                    digest.update(chunk)
                    size += len(chunk)
            finally:
                getattr(result, "close", lambda: None)()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return answer["status"], answer["headers"], digest.hexdigest(), size


def upload(server, application, path):
    with open(path, "rb") as body:
        return server(
            "POST",
            documents_url(application),
            body=body,
            length=os.path.getsize(path),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )


def stored_sha256(store, key):
    digest = hashlib.sha256()
    if store.backend == "s3":
        for chunk in store.client.get_object(Bucket=store.name, Key=key)["Body"].iter_chunks(MB):
            digest.update(chunk)
    else:
        with open(store.root / key, "rb") as stored:
            for chunk in iter(lambda: stored.read(MB), b""):
                digest.update(chunk)
    return digest.hexdigest()


def test_a_50_mb_upload_and_its_download_stream(world, big_store, tmp_path, settings):
    app = world.application()
    server = Server(api_key(world.applicant))
    # The first request imports and connects; what it keeps is not the upload's doing.
    small = tmp_path / "small"
    write_body(small, 64 * 1024)
    assert upload(server, app, small)[0] == 201
    Document.objects.all().delete()
    big = tmp_path / "big"
    sha256, size = write_body(big, SIZE)

    with Peak() as up:
        status, _headers, _body_sha, _length = upload(server, app, big)

    assert status == 201
    document = Document.objects.get()
    assert (document.size, document.sha256) == (size, sha256)
    assert stored_sha256(big_store, document.file.name) == sha256
    assert up.python < PYTHON_PEAK, f"upload held {up.python / MB:.1f} MB of Python objects"
    assert up.rss < RSS_PEAK, f"upload grew the process by {up.rss / MB:.1f} MB"
    assert list((tmp_path / "spool").iterdir()) == []

    with Peak() as down:
        status, headers, body_sha, length = server("GET", download_url(document))

    if big_store.backend == "s3":
        assert status == 302
        fetched = requests.get(headers["Location"], stream=True, timeout=30)
        digest = hashlib.sha256()
        for chunk in fetched.iter_content(MB):
            digest.update(chunk)
        assert digest.hexdigest() == sha256
    else:
        assert (status, length, body_sha) == (200, size, sha256)
        assert headers["Content-Disposition"] == 'attachment; filename="big plan.pdf"'
    assert down.python < PYTHON_PEAK, f"download held {down.python / MB:.1f} MB of Python objects"
    assert down.rss < RSS_PEAK, f"download grew the process by {down.rss / MB:.1f} MB"
