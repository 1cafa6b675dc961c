"""`make soak` — python -m bench.soak

The deployment of docs/deploy.md on this machine (haproxy, three gunicorn, pgbouncer in
transaction mode, PostgreSQL, the moto S3 server, two task workers) under a mixed locust
workload: first without faults (the baseline), then with the faults of bench.soak.faults,
each run followed by the reconciliation of bench.soak.reconcile. Writes
bench/results/soak-<time>.json and .md. Settings from the environment (or options):

  SOAK_MINUTES (10)   minutes of load per run
  SOAK_SCALE (0.01)   the benchmark dataset's scale (0.01: 1,000 applications)
  SOAK_USERS (24)     simultaneous simulated users
  SOAK_BASELINE (1)   0: the fault run only
  SOAK_PG_RESTART (1) 0: leave PostgreSQL alone (a machine whose PostgreSQL others use)
  SOAK_S3_OUTAGE (30) seconds the S3 server is away
  SOAK_DATABASE (grants_soak) the database, dropped and created (its name must contain "soak")

Run directories (configs, logs, request logs) go under /tmp/soak-<time>/ (SOAK_RUN_DIR)."""

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

from . import report

RESULTS = Path(__file__).resolve().parent.parent / "results"


def env(name, default):
    return os.environ.get(name) or default


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=float(env("SOAK_MINUTES", "10")))
    parser.add_argument("--scale", type=float, default=float(env("SOAK_SCALE", "0.01")))
    parser.add_argument("--users", type=int, default=int(env("SOAK_USERS", "24")))
    parser.add_argument("--baseline", choices=("0", "1"), default=env("SOAK_BASELINE", "1"))
    parser.add_argument("--pg-restart", choices=("0", "1"), default=env("SOAK_PG_RESTART", "1"))
    parser.add_argument("--s3-outage", type=float, default=float(env("SOAK_S3_OUTAGE", "30")))
    parser.add_argument("--database", default=env("SOAK_DATABASE", "grants_soak"))
    parser.add_argument("--run-dir", default=env("SOAK_RUN_DIR", ""))
    parser.add_argument("--output-dir", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.scale <= 0 or args.users < 1 or args.s3_outage < 0:
        parser.error("SOAK_MINUTES, SOAK_SCALE and SOAK_USERS must be above 0, SOAK_S3_OUTAGE at least 0")
    return args


def run_one(mode, args, run_dir):
    output = run_dir / f"{mode}.json"
    command = [
        sys.executable, "-u", "-m", "bench.soak.run", "--mode", mode, "--minutes", str(args.minutes),
        "--scale", str(args.scale), "--users", str(args.users), "--database", args.database,
        "--pg-restart", args.pg_restart, "--s3-outage", str(args.s3_outage),
        "--run-dir", str(run_dir / mode), "--output", str(output),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent.parent)  # noqa: S603
    try:
        process.wait()
    except BaseException:
        process.terminate()
        process.wait(timeout=60)
        raise
    return (
        json.loads(output.read_text())
        if output.exists()
        else {"mode": mode, "ok": False, "error": "no result"}
    )


def main(argv=None):
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.UTC)
    stamp = f"{started:%Y%m%dT%H%M%SZ}"
    run_dir = Path(args.run_dir or f"/tmp/soak-{stamp}")  # noqa: S108 - never inside the checkout
    run_dir.mkdir(parents=True, exist_ok=True)
    results = {
        "started_at": started.isoformat(timespec="seconds"),
        "settings": {
            "minutes": args.minutes,
            "scale": args.scale,
            "users": args.users,
            "pg_restart": args.pg_restart == "1",
            "s3_outage_s": args.s3_outage,
        },  # fmt: skip
        "machine": {"nproc": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "run_dir": str(run_dir),
    }
    if args.baseline == "1":
        results["baseline"] = run_one("baseline", args, run_dir)
    results["faults"] = run_one("faults", args, run_dir)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["ok"] = all(results[m].get("ok") for m in ("baseline", "faults") if m in results)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path = output_dir / f"soak-{stamp}.json"
    for run in (results.get("baseline"), results["faults"]):
        if run:
            run.pop("events", None)  # the full event log stays in the run directory
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    markdown = report.markdown(results)
    (output_dir / f"soak-{stamp}.md").write_text(markdown)
    print(markdown)
    print(f"soak: {'OK' if results['ok'] else 'FAILED'}; results in {json_path} (logs in {run_dir})")
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
