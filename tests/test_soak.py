"""The soak (`make soak`, bench/soak) in its tiny version: the topology of docs/deploy.md
(haproxy, three gunicorn, pgbouncer in transaction mode, PostgreSQL, the moto S3 server,
two task workers) under the locust workload for under a minute, with every fault
injected (SOAK_PG_RESTART=0 leaves the PostgreSQL restart out on a shared machine), and
the same reconciliation as the full run: nothing lost or duplicated, no over-commit, the
audit chain valid, no orphan, only 503 with Retry-After and only inside fault windows."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import connections

from bench.soak.topology import binaries

BASE_DIR = Path(__file__).resolve().parent.parent
_found, MISSING = binaries()

needs_binaries = pytest.mark.skipif(
    bool(MISSING),
    reason=f"the soak needs {' and '.join(MISSING)} (apt-get install haproxy pgbouncer; .ci/run installs them)",
)


def soak_database():
    """The soak's own database next to the suite's: <name>_soak on the same server."""
    url = urlparse(os.environ.get("DATABASE_URL", ""))
    return f"{url.path.lstrip('/') or 'grants'}_soak", url.port or 5432


def settings_with(**env):
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "db = settings.DATABASES['default']; "
        "print(json.dumps([db.get('DISABLE_SERVER_SIDE_CURSORS', False), db.get('OPTIONS', {}).get('prepare_threshold', 'unset')]))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "PYTEST", "DJANGO_"))}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=BASE_DIR, capture_output=True, text=True, timeout=120,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
    )  # fmt: skip


def test_behind_a_pooler_in_transaction_mode_nothing_outlives_a_transaction():
    pooled = settings_with(DATABASE_URL="postgres://u@127.0.0.1:6432/grants", DATABASE_POOLER="transaction")
    assert json.loads(pooled.stdout) == [True, None], pooled.stderr
    direct = settings_with(DATABASE_URL="postgres://u@127.0.0.1:5432/grants")
    assert json.loads(direct.stdout) == [False, "unset"], direct.stderr
    wrong = settings_with(DATABASE_URL="postgres://u@127.0.0.1:5432/grants", DATABASE_POOLER="statement")
    assert wrong.returncode != 0
    assert "DATABASE_POOLER must be empty, 'session' or 'transaction'" in wrong.stderr


@needs_binaries
def test_the_generated_haproxy_config_is_valid_and_answers_503_with_retry_after(tmp_path):
    from bench.soak.topology import HAPROXY_503, haproxy_cfg

    error_file = tmp_path / "503.http"
    error_file.write_text(HAPROXY_503)
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        haproxy_cfg(
            port=18080,
            servers=[("g1", 18081), ("g2", 18082)],
            error_file=error_file,
            stats_socket=tmp_path / "haproxy.sock",
        )  # fmt: skip
    )
    checked = subprocess.run([_found["haproxy"], "-c", "-f", str(config)], capture_output=True, text=True)  # noqa: S603
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = config.read_text()
    assert "http-check send meth GET uri /healthz" in text
    for status in (502, 503, 504):
        assert f"errorfile {status} {error_file}" in text
    assert HAPROXY_503.startswith("HTTP/1.0 503 ") and "\r\nRetry-After: 10\r\n" in HAPROXY_503


def test_the_pooler_config_is_transaction_mode():
    from bench.soak.topology import pgbouncer_ini

    ini = pgbouncer_ini(port=16432, database="grants_soak", pg_port=5432, run_dir=Path("/tmp/x"))  # noqa: S108
    assert "pool_mode = transaction" in ini
    assert "grants_soak = host=127.0.0.1 port=5432 dbname=grants_soak" in ini


def test_the_reconciliation_reads_each_keys_last_answer_and_the_fault_windows():
    from bench.soak.reconcile import outcomes, phase_of

    log = [
        {"key": "a", "attempt": 1, "status": 503, "t": 10.0, "end": 10.5},
        {"key": "a", "attempt": 2, "status": 201, "t": 12.0, "end": 12.2},
        {"key": "b", "attempt": 1, "status": 409, "t": 30.0, "end": 30.1},
        {"key": None, "attempt": 1, "status": 200, "t": 31.0, "end": 31.1},
    ]
    final = outcomes(log)
    assert {k: r["status"] for k, r in final.items()} == {"a": 201, "b": 409}
    faults = [{"fault": "one", "window": [9.0, 11.0]}, {"fault": "two", "window": [10.4, 20.0]}]
    assert phase_of(log[0], faults) == "two"  # overlapping windows: the latest begun
    assert phase_of(log[2], faults) == "normal"


@pytest.mark.slow
@pytest.mark.postgres
@needs_binaries
@pytest.mark.timeout(900)
def test_the_tiny_soak_loses_nothing_while_its_parts_fail(tmp_path):
    database, port = soak_database()
    output = tmp_path / "faults.json"
    pg_restart = os.environ.get("SOAK_PG_RESTART", "1")
    # The restart cuts every connection of the cluster, the suite's own too: closed now,
    # each later test opens a fresh one instead of finding a dead one.
    connections.close_all()
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.soak.run", "--mode", "faults", "--minutes", "0.9", "--scale", "0.002",
         "--users", "12", "--database", database, "--pg-port", str(port), "--pg-restart", pg_restart,
         "--s3-outage", "5", "--run-dir", str(tmp_path / "run"), "--output", str(output)],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=840,
    )  # fmt: skip
    connections.close_all()
    assert output.exists(), completed.stderr[-3000:]
    result = json.loads(output.read_text())
    assert "error" not in result, result["error"]

    faults = {f["fault"]: f for f in result["faults"]}
    expected = {"app server killed", "task worker killed mid-send", "S3 away", "pooler restarted"}
    if pg_restart == "1":
        expected.add("PostgreSQL restarted")
    assert set(faults) == expected
    assert all("error" not in f and f["recovered"] for f in faults.values()), faults
    # haproxy's health checks took the killed server out and put the restarted one back.
    killed = faults["app server killed"]
    assert killed["taken_out_after_s"] is not None and killed["back_in_rotation_after_restart_s"] is not None

    reconciliation = result["reconciliation"]
    assert reconciliation["acknowledged"] > 20
    assert (reconciliation["lost"], reconciliation["duplicated"], reconciliation["unacknowledged_in_database"]) == (
        0, 0, 0,
    ), reconciliation["kinds"]  # fmt: skip
    assert reconciliation["budgets"]["over_committed"] == 0
    notifications = reconciliation["notifications"]
    assert notifications["sent_twice"] == notifications["marked_sent_but_not_sent"] == 0
    assert reconciliation["audit"]["valid"], reconciliation["audit"]["output"]
    assert (
        reconciliation["orphans"]["objects_without_row"]
        == reconciliation["orphans"]["rows_without_object"]
        == 0
    )

    requests = result["requests"]
    assert requests["server_errors_outside_fault_windows"] == 0, requests["samples"]
    assert requests["server_errors_inside_windows_not_503_with_retry_after"] == 0, requests["samples"]
    assert result["ok"]

    # Nothing the run started is left running (a pid the machine gave to another
    # process since does not count: its command line differs).
    started = [e for e in result["events"] if e["event"] == "start" and "pid" in e]
    assert len(started) >= 9  # s3, pgbouncer, 3 gunicorn, 2 workers, haproxy, locust
    alive = [e for e in started if running(e["pid"], e["command"])]
    assert alive == []


def running(pid, command):
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return [part.decode(errors="replace") for part in cmdline if part] == command
