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

from bench.soak.topology import binaries

BASE_DIR = Path(__file__).resolve().parent.parent
_found, MISSING = binaries()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"the soak needs {' and '.join(MISSING)} (apt-get install haproxy pgbouncer; .ci/run installs them)",
    ),
]


def soak_database():
    """The soak's own database next to the suite's: <name>_soak on the same server."""
    url = urlparse(os.environ.get("DATABASE_URL", ""))
    return f"{url.path.lstrip('/') or 'grants'}_soak", url.port or 5432


@pytest.mark.timeout(900)
def test_the_tiny_soak_loses_nothing_while_its_parts_fail(tmp_path):
    database, port = soak_database()
    output = tmp_path / "faults.json"
    pg_restart = os.environ.get("SOAK_PG_RESTART", "1")
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.soak.run", "--mode", "faults", "--minutes", "0.9", "--scale", "0.002",
         "--users", "12", "--database", database, "--pg-port", str(port), "--pg-restart", pg_restart,
         "--s3-outage", "5", "--run-dir", str(tmp_path / "run"), "--output", str(output)],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=840,
    )  # fmt: skip
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

    # Nothing the run started is left running.
    started = [e["pid"] for e in result["events"] if e["event"] == "start"]
    alive = [pid for pid in started if Path(f"/proc/{pid}").exists()]
    assert alive == []
