"""One soak run: `python -m bench.soak.run --mode faults|baseline --minutes M --scale S`.

Seeds the soak database, starts the topology (bench.soak.topology), runs the locust
workload (bench/soak/locustfile.py) for the given time while, in `faults` mode, the
faults of bench.soak.faults are injected, then reconciles (bench.soak.reconcile) and
writes the run's JSON. Every process it started is stopped on the way out, also on
Ctrl-C or a failure."""

import argparse
import json
import os
import sys
import threading
import time
import traceback
import warnings
from pathlib import Path

from .supervisor import Supervisor
from .topology import BASE_DIR, Topology, dump, http_status


def env_float(name, default):
    value = os.environ.get(name, "")
    try:
        return float(value) if value.strip() else default
    except ValueError:
        raise SystemExit(f"soak: {name} must be a number, not {value!r}") from None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.soak.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("faults", "baseline"), default="faults")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--users", type=int, default=24, help="simultaneous simulated users")
    parser.add_argument("--database", default="grants_soak")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-restart", choices=("0", "1"), default="1")
    parser.add_argument("--s3-outage", type=float, default=30.0, help="seconds the S3 server is away")
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.scale <= 0 or args.users < 1:
        parser.error("--minutes, --scale and --users must be above 0")
    if "soak" not in args.database:
        parser.error("--database must contain 'soak' (it is dropped and created)")
    return args


def setup_django(topology):
    os.environ.update(topology.app_env(pooled=False))
    sys.path.insert(0, str(BASE_DIR))
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()


class HealthWatch(threading.Thread):
    """Polls haproxy's view of each server (its stats socket) and the service's
    /healthz through the proxy every 0.25 s, logging each change."""

    def __init__(self, topology):
        super().__init__(daemon=True)
        self.topology = topology
        self.stop_event = threading.Event()
        self.states = {}
        self.lock = threading.Lock()

    def server_states(self):
        import socket

        sock_path = str(self.topology.sv.run_dir / "haproxy.sock")
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(sock_path)
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        states = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == "app" and row.get("svname") not in ("FRONTEND", "BACKEND"):
                states[row["svname"]] = row["status"].split()[0]
        return states

    def run(self):
        while not self.stop_event.is_set():
            try:
                states = self.server_states()
            except OSError:
                states = {}
            states["service"] = (
                "UP" if http_status(f"{self.topology.url}/healthz", timeout=3) == 200 else "DOWN"
            )
            with self.lock:
                for name, state in states.items():
                    if self.states.get(name) != state:
                        self.topology.sv.event(name, "health", state=state)
                        self.states[name] = state
            self.stop_event.wait(0.25)

    def state(self, name):
        with self.lock:
            return self.states.get(name)

    def stop(self):
        self.stop_event.set()
        self.join(timeout=5)


def start_load(topology, args, actors_path, requests_log):
    env = {
        **os.environ,
        "SOAK_ACTORS": str(actors_path),
        "SOAK_REQUESTS_LOG": str(requests_log),
        "PYTHONUNBUFFERED": "1",
    }
    seconds = max(10, round(args.minutes * 60))
    command = [
        str(Path(sys.executable).parent / "locust"), "-f", str(Path(__file__).parent / "locustfile.py"),
        "--headless", "--users", str(args.users), "--spawn-rate", str(max(1, args.users // 4)),
        "--run-time", f"{seconds}s", "--host", topology.url, "--stop-timeout", "20",
        "--csv", str(topology.sv.run_dir / "locust"), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    topology.sv.start("locust", command, env=env, cwd=BASE_DIR)
    return seconds


def main(argv=None):
    args = parse_args(argv)
    run_dir = Path(args.run_dir)
    sv = Supervisor(run_dir)
    topology = Topology(sv, database=args.database, pg_port=args.pg_port)
    result = {"mode": args.mode, "minutes": args.minutes, "scale": args.scale, "users": args.users,
              "run_dir": str(run_dir), "load_average_at_start": list(os.getloadavg())}  # fmt: skip
    watch = None
    try:
        setup_django(topology)
        from django.db import connection

        from . import faults, reconcile, seed

        print(f"soak[{args.mode}]: seeding {args.database} at scale {args.scale} ...", flush=True)
        started = time.monotonic()
        seed.prepare_database(topology.direct_database_url())
        s3 = topology.start_s3()
        seeded = seed.seed(scale=args.scale, s3_client=s3, bucket="soak-documents")
        result["seed"] = {k: v for k, v in seeded.items() if k != "actors"}
        result["seed"]["seconds"] = round(time.monotonic() - started, 1)
        result["actors"] = {role: len(people) for role, people in seeded["actors"].items()}
        actors_path = run_dir / "actors.json"
        dump(actors_path, seeded["actors"])
        mark = reconcile.mark()
        connection.close()

        print(f"soak[{args.mode}]: starting the topology ...", flush=True)
        topology.write_pooler_config()
        topology.start_pooler()
        for name, _port in topology.app_servers:
            topology.start_app(name)
        for name, _port in topology.app_servers:
            topology.wait_app(name)
        for name in topology.task_workers:
            topology.start_worker(name)
        topology.start_proxy()
        result["topology"] = topology.describe()
        watch = HealthWatch(topology)
        watch.start()

        requests_log = run_dir / "requests.jsonl"
        print(f"soak[{args.mode}]: load for {args.minutes} min, {args.users} users ...", flush=True)
        load_started = time.time()
        sv.event("load", "start")
        seconds = start_load(topology, args, actors_path, requests_log)
        injected = []
        if args.mode == "faults":
            injector = faults.Injector(topology, watch, seconds=seconds, pg_restart=args.pg_restart == "1",
                                       s3_outage=args.s3_outage, started=load_started)  # fmt: skip
            injected = injector.run()
        locust = sv.processes["locust"][0]
        locust.wait(timeout=seconds + 120)
        sv.event("load", "end", returncode=locust.returncode)
        load_ended = time.time()
        # Anything still being sent gets the chance to finish (the workers keep running).
        reconcile.drain_outbox(timeout=60)
        print(f"soak[{args.mode}]: reconciling ...", flush=True)
        result["faults"] = injected
        result["load_seconds"] = round(load_ended - load_started, 1)
        result["reconciliation"] = reconcile.reconcile(
            requests_log=requests_log, mail_log=topology.mail_log, mark=mark
        )
        result["requests"] = reconcile.request_stats(requests_log, injected, started=load_started)
        try:
            result["pooler"] = topology.pooler_stats()
        except Exception as exc:  # noqa: BLE001 - the figures are a nicety
            result["pooler"] = f"unavailable: {exc}"
        result["load_average_at_end"] = list(os.getloadavg())
        result["ok"] = reconcile.verdict(result)
    except BaseException as exc:
        result["error"] = "".join(traceback.format_exception(exc))[-4000:]
        result["ok"] = False
        print(result["error"], file=sys.stderr)
    finally:
        if watch:
            watch.stop()
        topology.stop()
        result["events"] = [json.loads(line) for line in sv.events_path.read_text().splitlines()]
        dump(args.output, result)
    print(f"soak[{args.mode}]: {'OK' if result['ok'] else 'FAILED'}; results in {args.output}", flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
