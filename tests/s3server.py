"""A real S3 endpoint for the tests: moto's ThreadedMotoServer on 127.0.0.1, spoken to
over HTTP by the same django-storages/boto3 code as production (boto3 is never patched).

- `moto_server`: one server for the whole session, on a free port.
- `moto_in_child()`: a server in a child process, for measurements of this process's
  memory (an in-process server would hold every uploaded byte here too).
- `Relay`: a TCP relay in front of a server that goes away in the middle of a transfer,
  as a crashed or unplugged S3 endpoint does.
"""

import contextlib
import functools
import socket
import subprocess
import sys
import threading
import uuid

import boto3
import pytest
from botocore.config import Config
from storages.backends.s3 import S3Storage

REGION = "eu-central-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"  # moto accepts any key; it does not check signatures


@pytest.fixture(scope="session")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@contextlib.contextmanager
def moto_in_child():
    code = (
        "import sys\n"
        "from moto.server import ThreadedMotoServer\n"
        "server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)\n"
        "server.start()\n"
        "print(server.get_host_and_port()[1], flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@functools.cache
def s3_client(endpoint):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


class Bucket:
    """A fresh bucket on a moto server, read directly (not through the app's code)."""

    backend = "s3"

    def __init__(self, endpoint, name=None):
        self.endpoint = endpoint
        self.name = name or f"documents-{uuid.uuid4().hex[:12]}"
        self.client = s3_client(endpoint)
        self.client.create_bucket(Bucket=self.name, CreateBucketConfiguration={"LocationConstraint": REGION})

    def keys(self):
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return {entry["Key"] for page in pages for entry in page.get("Contents", ())}

    def read(self, key):
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def head(self, key):
        return self.client.head_object(Bucket=self.name, Key=key)

    def put(self, key, data):
        self.client.put_object(Bucket=self.name, Key=key, Body=data)

    def remove(self, key):
        self.client.delete_object(Bucket=self.name, Key=key)

    def unfinished_uploads(self):
        return self.client.list_multipart_uploads(Bucket=self.name).get("Uploads", [])


class SharedSessionS3Storage(S3Storage):
    """Production's backend, except that tests share one boto3 session (credentials and
    the loaded service models): each test gets a fresh storage object, and loading the
    S3 models again would cost most of a second per test. Clients stay per storage."""

    _sessions = {}

    def _create_session(self):
        key = (self.access_key, self.secret_key)
        if key not in self._sessions:
            self._sessions[key] = super()._create_session()
        return self._sessions[key]


def use_s3(settings, endpoint, bucket_name, **options):
    """Point the app's document storage at `endpoint`, configured as production is."""
    from config.settings import s3_storage_options

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "tests.s3server.SharedSessionS3Storage",
            "OPTIONS": s3_storage_options(
                bucket_name=bucket_name,
                endpoint_url=endpoint,
                region_name=REGION,
                addressing_style="path",
                access_key=ACCESS_KEY,
                secret_key=SECRET_KEY,
                **options,
            ),
        },
    }
    settings.STORAGE_BACKEND = "s3"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Relay:
    """Forwards 127.0.0.1:<port> to `endpoint`. After `cut_after` bytes towards the
    server it drops every connection and stops listening: the endpoint is gone."""

    def __init__(self, endpoint, *, cut_after=None):
        host, port = endpoint.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.cut_after = cut_after
        self.sent = 0
        self.cut = threading.Event()
        self._lock = threading.Lock()
        self._sockets = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.cut.is_set():
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source, sink, towards_server):
        while True:
            try:
                data = source.recv(64 * 1024)
            except OSError:
                return
            if not data:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
                return
            if towards_server and self.cut_after is not None:
                with self._lock:
                    self.sent += len(data)
                    over = self.sent > self.cut_after
                if over:
                    self.stop()
                    return
            try:
                sink.sendall(data)
            except OSError:
                return

    def stop(self):
        self.cut.set()
        with contextlib.suppress(OSError):
            # shutdown() wakes the accept() blocked in the other thread; close() alone may not.
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
