"""The deployment of docs/deploy.md on one machine: haproxy in front of three gunicorn
instances, pgbouncer (transaction mode) in front of PostgreSQL, the moto S3 server
behind a gate that can take it away, two `db_worker` task workers. The configuration
files are generated into the run directory, never into the checkout."""

import contextlib
import json
import os
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
BUCKET = "soak-documents"
REGION = "eu-central-1"
RETRY_AFTER = "10"

HAPROXY_503 = (
    "HTTP/1.0 503 Service Unavailable\r\n"
    "Cache-Control: no-cache\r\n"
    "Connection: close\r\n"
    "Content-Type: application/json\r\n"
    f"Retry-After: {RETRY_AFTER}\r\n"
    "\r\n"
    '{"detail": "The service is not reachable right now. Nothing was saved; try again shortly.", '
    '"code": "service_unavailable"}\n'
)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def binaries():
    """haproxy and pgbouncer, or the names of the missing ones."""
    found = {name: shutil.which(name) or _sbin(name) for name in ("haproxy", "pgbouncer")}
    return found, [name for name, path in found.items() if not path]


def _sbin(name):
    for folder in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    return None


def haproxy_cfg(*, port, servers, error_file, stats_socket):
    lines = [
        "global",
        "    maxconn 1000",
        "    log stdout format raw local0 info",
        f"    stats socket {stats_socket} mode 600 level admin",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 90s",
        "    timeout server 90s",
        "    timeout check 4s",
        "    option forwardfor",
        "    log global",
        "    option httplog",
        # A server that refuses the connection (killed, restarting) is not the client's
        # problem: the request goes to another one.
        "    retries 3",
        "    option redispatch 1",
        # Only connection failures: a request the server may have begun is not sent
        # again behind the client's back (haproxy then answers 502, below a 503).
        "    retry-on conn-failure",
        "frontend web",
        f"    bind 127.0.0.1:{port}",
        # TLS would end here in production; the app is told the client used HTTPS.
        "    http-request set-header X-Forwarded-Proto https",
        "    default_backend app",
        "backend app",
        "    balance leastconn",
        # A dead server is out after 2 failed checks (1 s apart) and back after 2 good ones.
        # The check asks /healthz and wants the database answering: a document store that
        # is away makes /healthz 503 on every server alike, and uploads answer 503
        # themselves, so it does not take servers out.
        "    option httpchk",
        "    http-check send meth GET uri /healthz",
        '    http-check expect rstring "\\"database\\": \\"ok\\""',
        "    default-server inter 1s fall 2 rise 2",
        # No server up, or the server died before it answered: haproxy's own answer is
        # the app's 503 with Retry-After (the request's transaction did not commit, or
        # its Idempotency-Key replays the answer when it did).
        f"    errorfile 502 {error_file}",
        f"    errorfile 503 {error_file}",
        f"    errorfile 504 {error_file}",
    ]
    for name, server_port in servers:
        lines.append(f"    server {name} 127.0.0.1:{server_port} check")
    return "\n".join(lines) + "\n"


def pgbouncer_ini(*, port, database, pg_port, run_dir):
    return f"""[databases]
{database} = host=127.0.0.1 port={pg_port} dbname={database} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
log_connections = 0
log_disconnections = 0
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {run_dir}/userlist.txt
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
reserve_pool_size = 5
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
admin_users = postgres
"""


class Gate:
    """A TCP relay on loopback that can be closed (connections refused, open ones cut)
    and opened again. The soak puts it in front of the S3 server (the document store
    goes away and comes back with its objects); tests/test_faults.py in front of
    PostgreSQL (the database goes away for the service, the real server untouched)."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self.listener = None
        self.sockets = set()
        self.lock = threading.Lock()

    def open(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(128)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def close(self):
        if self.listener is None:
            return
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.listener = None
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            with self.lock:
                self.sockets.discard(source)
            with contextlib.suppress(OSError):
                source.close()


def wait_until(check, *, timeout=60.0, what="a process"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return time.monotonic()
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def http_status(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def port_open(port):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Topology:
    """Everything of docs/deploy.md, started and stopped through a Supervisor."""

    def __init__(self, supervisor, *, database, pg_port=5432, app_servers=3, gunicorn_workers=2,
                 task_workers=2, mail_delay=0.3):  # fmt: skip
        self.sv = supervisor
        self.run_dir = supervisor.run_dir
        self.database = database
        self.pg_port = pg_port
        self.found, missing = binaries()
        if missing:
            raise RuntimeError(f"not installed: {', '.join(missing)} (apt-get install {' '.join(missing)})")
        self.app_servers = [(f"gunicorn{i + 1}", free_port()) for i in range(app_servers)]
        self.gunicorn_workers = gunicorn_workers
        self.task_workers = [f"worker{i + 1}" for i in range(task_workers)]
        self.proxy_port = free_port()
        self.pooler_port = free_port()
        self.s3_port = free_port()
        self.gate = Gate(self.s3_port)
        self.mail_log = self.run_dir / "mail.jsonl"
        self.mail_delay = mail_delay
        self.secret_key = secrets.token_urlsafe(48)

    # ---- addresses -------------------------------------------------------------------

    @property
    def url(self):
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def s3_endpoint(self):
        return f"http://127.0.0.1:{self.gate.port}"

    def direct_database_url(self):
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/{self.database}"

    def pooled_database_url(self):
        return f"postgres://postgres@127.0.0.1:{self.pooler_port}/{self.database}"

    def app_env(self, *, pooled=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_", "COV_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=self.pooled_database_url() if pooled else self.direct_database_url(),
            DATABASE_POOLER="transaction" if pooled else "",
            DATABASE_CONN_MAX_AGE="0",
            SECRET_KEY=self.secret_key,
            DEBUG="0",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            BEHIND_PROXY="1",
            TRUSTED_PROXY_COUNT="1",
            SECURE_COOKIES="0",
            STORAGE_BACKEND="s3",
            AWS_STORAGE_BUCKET_NAME=BUCKET,
            AWS_S3_ENDPOINT_URL=self.s3_endpoint,
            AWS_S3_REGION_NAME=REGION,
            AWS_S3_ADDRESSING_STYLE="path",
            AWS_ACCESS_KEY_ID="soak",
            AWS_SECRET_ACCESS_KEY="soak",  # noqa: S106 - moto accepts any key
            AWS_S3_MAX_ATTEMPTS="2",
            AWS_S3_CONNECT_TIMEOUT="2",
            AWS_S3_READ_TIMEOUT="10",
            EMAIL_BACKEND="bench.soak.mailsink.EmailBackend",
            SOAK_MAIL_LOG=str(self.mail_log),
            SOAK_MAIL_DELAY=str(self.mail_delay),
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        env.pop("REDIS_URL", None)
        return env

    # ---- the parts ---------------------------------------------------------------------

    def start_s3(self):
        self.sv.start(
            "s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.s3_port)],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        wait_until(lambda: port_open(self.s3_port), what="the S3 server")
        self.gate.open()
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3", endpoint_url=self.s3_endpoint, region_name=REGION, aws_access_key_id="soak",
            aws_secret_access_key="soak", config=Config(s3={"addressing_style": "path"}),  # noqa: S106
        )  # fmt: skip
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        return client

    def write_pooler_config(self):
        """pgbouncer.ini and its user list, in a directory of their own under /tmp that
        pgbouncer (run as postgres when we are root: it refuses to run as root) can read
        whatever the run directory's permissions; a copy goes to the run directory."""
        self.pooler_dir = Path(tempfile.mkdtemp(prefix="soak-pgbouncer-"))
        self.pooler_dir.chmod(0o755)
        (self.pooler_dir / "userlist.txt").write_text('"postgres" ""\n')
        ini = pgbouncer_ini(
            port=self.pooler_port, database=self.database, pg_port=self.pg_port, run_dir=self.pooler_dir
        )
        for folder in (self.pooler_dir, self.run_dir):
            (folder / "pgbouncer.ini").write_text(ini)
        for name in ("userlist.txt", "pgbouncer.ini"):
            (self.pooler_dir / name).chmod(0o644)

    def start_pooler(self):
        user = "postgres" if os.geteuid() == 0 else None
        self.sv.start(
            "pgbouncer", [self.found["pgbouncer"], str(self.pooler_dir / "pgbouncer.ini")], user=user
        )
        wait_until(lambda: port_open(self.pooler_port), what="pgbouncer")

    def start_app(self, name):
        port = dict(self.app_servers)[name]
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(self.gunicorn_workers),
            "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "5",
            "--forwarded-allow-ips", "127.0.0.1", "--control-socket", str(self.run_dir / f"{name}.ctl"),
        ]  # fmt: skip
        self.sv.start(name, command, env=self.app_env(), cwd=BASE_DIR)

    def wait_app(self, name, timeout=90):
        port = dict(self.app_servers)[name]
        return wait_until(
            lambda: http_status(f"http://127.0.0.1:{port}/healthz") == 200, timeout=timeout, what=name
        )

    def start_worker(self, name):
        command = [sys.executable, "manage.py", "db_worker", "--interval", "1", "--no-reload"]
        # db_worker exits when it cannot reach the database: run it as systemd would.
        self.sv.start(name, command, env=self.app_env(), cwd=BASE_DIR, keep_alive=True)

    def start_proxy(self):
        error_file = self.run_dir / "haproxy-503.http"
        error_file.write_text(HAPROXY_503)
        config = self.run_dir / "haproxy.cfg"
        config.write_text(
            haproxy_cfg(
                port=self.proxy_port,
                servers=self.app_servers,
                error_file=error_file,
                stats_socket=self.run_dir / "haproxy.sock",
            )
        )
        self.sv.start("haproxy", [self.found["haproxy"], "-db", "-f", str(config)])
        wait_until(lambda: http_status(f"{self.url}/healthz") == 200, timeout=60, what="haproxy")

    def start(self):
        started = time.monotonic()
        self.start_s3()
        self.write_pooler_config()
        self.start_pooler()
        for name, _port in self.app_servers:
            self.start_app(name)
        for name, _port in self.app_servers:
            self.wait_app(name)
        for name in self.task_workers:
            self.start_worker(name)
        self.start_proxy()
        self.sv.event("topology", "up", seconds=round(time.monotonic() - started, 1), **self.describe())

    def describe(self):
        return {
            "proxy": self.url,
            "app_servers": dict(self.app_servers),
            "pooler_port": self.pooler_port,
            "s3": self.s3_endpoint,
            "task_workers": self.task_workers,
        }

    def pooler_stats(self):
        """pgbouncer's SHOW POOLS, for the results."""
        import psycopg

        with psycopg.connect(
            f"postgres://postgres@127.0.0.1:{self.pooler_port}/pgbouncer",
            autocommit=True,
            prepare_threshold=None,
        ) as conn:
            cursor = conn.cursor()
            cursor.execute("SHOW STATS")
            columns = [c.name for c in cursor.description]
            return [dict(zip(columns, row, strict=False)) for row in cursor.fetchall()]

    def stop(self):
        self.gate.close()
        self.sv.stop_all()
        if getattr(self, "pooler_dir", None):
            shutil.rmtree(self.pooler_dir, ignore_errors=True)


def dump(path, data):
    Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n")
