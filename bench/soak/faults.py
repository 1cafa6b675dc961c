"""The faults injected while the load runs, each at a logged time, spread over the run:

1. an app server (gunicorn1, master and workers) SIGKILLed, restarted 5 s later;
2. a task worker SIGKILLed in the middle of sending a message (the mail sink logs the
   begin of each send; the worker is killed between begin and end), restarted;
3. PostgreSQL restarted (`pg_ctlcluster <version> main restart`; SOAK_PG_RESTART=0
   leaves it out on a machine whose PostgreSQL others use);
4. the S3 server away for 30 s (connections refused and cut at its address; the
   server keeps its objects);
5. the pooler (pgbouncer) restarted.

For each: when it began, when its cause was undone, when the service answered
/healthz through the proxy again (and, for the app server, when haproxy had it back in
rotation), so the time to recover is measured. The window a fault may excuse 503s in
runs from its start to 15 s after recovery (a client told Retry-After and requests
already queued at the proxy end within it)."""

import json
import subprocess
import time
from pathlib import Path

from .topology import http_status

GRACE = 15.0


def pg_cluster(port):
    """(version, name) of the local cluster on `port`, from pg_lsclusters."""
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True).stdout  # noqa: S607
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == str(port):
            return fields[0], fields[1]
    raise RuntimeError(f"no PostgreSQL cluster on port {port} in pg_lsclusters")


class Injector:
    def __init__(self, topology, watch, *, seconds, pg_restart, s3_outage, started):
        self.topology = topology
        self.sv = topology.sv
        self.watch = watch
        self.seconds = seconds
        self.pg_restart = pg_restart
        self.s3_outage = s3_outage
        self.started = started
        self.injected = []

    def plan(self):
        faults = [
            ("app server killed", self.kill_app_server),
            ("task worker killed mid-send", self.kill_worker_mid_send),
        ]
        if self.pg_restart:
            faults.append(("PostgreSQL restarted", self.restart_postgres))
        faults += [("S3 away", self.s3_away), ("pooler restarted", self.restart_pooler)]
        # Evenly over the first 80 % of the run: the last fifth shows the steady state after.
        step = 0.8 / len(faults)
        return [(0.08 + i * step, name, action) for i, (name, action) in enumerate(faults)]

    def run(self):
        for share, name, action in self.plan():
            at = self.started + share * self.seconds
            while time.time() < at:
                if not self.sv.alive("locust"):
                    return self.injected
                time.sleep(0.2)
            record = {"fault": name, "planned_at": round(at, 3), "start": round(time.time(), 3)}
            self.sv.event("faults", "inject", fault=name)
            try:
                record.update(action())
            except Exception as exc:  # noqa: BLE001 - a fault that could not be injected is reported
                record["error"] = f"{type(exc).__name__}: {exc}"
            record.setdefault("end", round(time.time(), 3))
            record["window"] = [record["start"], round(record.get("recovered", record["end"]) + GRACE, 3)]
            self.sv.event("faults", "done", **record)
            self.injected.append(record)
        return self.injected

    # ---- measuring recovery ------------------------------------------------------------

    def service_up(self, timeout=120):
        """Time when /healthz through the proxy answers 200 again."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if http_status(f"{self.topology.url}/healthz", timeout=3) == 200:
                return round(time.time(), 3)
            time.sleep(0.1)
        raise RuntimeError(f"the service did not recover within {timeout} s")

    def server_state(self, name, wanted, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.watch.state(name) == wanted:
                return round(time.time(), 3)
            time.sleep(0.05)
        return None

    # ---- the faults ------------------------------------------------------------------

    def kill_app_server(self):
        name = self.topology.app_servers[0][0]
        killed = time.time()
        self.sv.kill(name)
        out_at = self.server_state(name, "DOWN", timeout=20)
        time.sleep(max(0.0, 5 - (time.time() - killed)))
        restarted = time.time()
        self.topology.start_app(name)
        self.topology.wait_app(name)
        back_at = self.server_state(name, "UP", timeout=60)
        return {
            "target": name,
            "taken_out_after_s": round(out_at - killed, 2) if out_at else None,
            "restarted": round(restarted, 3),
            "end": round(restarted, 3),
            "recovered": back_at or round(time.time(), 3),
            "back_in_rotation_after_restart_s": round(back_at - restarted, 2) if back_at else None,
            "time_to_recover_s": round((back_at or time.time()) - killed, 2),
        }

    def kill_worker_mid_send(self):
        """Wait for a send to begin in a worker (at most a fifth of the run, 90 s), then
        SIGKILL that worker."""
        timeout = min(90.0, max(10.0, self.seconds / 5))
        workers = {self.sv.pid(name): name for name in self.topology.task_workers}
        log = Path(self.topology.mail_log)
        deadline = time.time() + timeout
        position = log.stat().st_size if log.exists() else 0
        victim, in_flight = None, None
        while time.time() < deadline and victim is None:
            if log.exists():
                with log.open() as handle:
                    handle.seek(position)
                    lines = handle.readlines()
                begun = {}
                for line in lines:
                    if not line.endswith("\n"):
                        break
                    record = json.loads(line)
                    if record["pid"] in workers:
                        if record["phase"] == "begin":
                            begun[record["pid"]] = record
                        else:
                            begun.pop(record["pid"], None)
                for pid, record in begun.items():
                    victim, in_flight = workers[pid], record
                    self.sv.kill(victim)
                    break
            time.sleep(0.02)
        if victim is None:
            # Nothing was being sent: kill one anyway (a worker lost while idle).
            victim = self.topology.task_workers[0]
            self.sv.kill(victim)
        killed = time.time()
        time.sleep(2)
        self.topology.start_worker(victim)
        return {
            "target": victim,
            "mid_send": in_flight is not None,
            "message": in_flight["fingerprint"] if in_flight else None,
            "end": round(time.time(), 3),
            "recovered": round(time.time(), 3),
            "time_to_recover_s": round(time.time() - killed, 2),
        }

    def restart_postgres(self):
        version, cluster = pg_cluster(self.topology.pg_port)
        began = time.time()
        subprocess.run(  # noqa: S603
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart", "-m", "fast"],  # noqa: S607
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        restarted = time.time()
        up = self.service_up()
        return {
            "target": f"postgresql {version}/{cluster}",
            "restart_took_s": round(restarted - began, 2),
            "end": round(restarted, 3),
            "recovered": up,
            "time_to_recover_s": round(up - began, 2),
        }

    def s3_away(self):
        self.topology.gate.close()
        self.sv.event("s3", "away")
        time.sleep(self.s3_outage)
        self.topology.gate.open()
        back = time.time()
        self.sv.event("s3", "back")
        up = self.service_up()
        return {
            "target": "s3",
            "away_s": self.s3_outage,
            "end": round(back, 3),
            "recovered": up,
            "time_to_recover_s": round(up - back, 2),
        }

    def restart_pooler(self):
        began = time.time()
        self.sv.stop("pgbouncer", timeout=10)
        self.topology.start_pooler()
        restarted = time.time()
        up = self.service_up()
        return {
            "target": "pgbouncer",
            "end": round(restarted, 3),
            "recovered": up,
            "time_to_recover_s": round(up - began, 2),
        }
