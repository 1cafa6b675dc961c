"""`make bench` — python -m bench.run [--scale 1.0] [--runs 50] [--workers 4] [--reuse]

Creates the benchmark database (PostgreSQL, DATABASE_URL; it must be a database whose
name contains "bench", which this command drops and recreates), migrates it, generates the
dataset, measures, prints a table and writes bench/results/<timestamp>.json."""

import argparse
import datetime
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/grants_bench"
RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100,000 applications (default)")
    parser.add_argument("--runs", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--workers", type=int, default=4, help="processes for the throughput run (default 4)")
    parser.add_argument(
        "--approvals", type=int, default=50, help="approvals per worker and per path (default 50)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database and its data if present")
    parser.add_argument("--skip-throughput", action="store_true", help="pages and reports only")
    parser.add_argument("--output", default=None, help="results file (default bench/results/<time>.json)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.scale > 10:
        parser.error("--scale must be above 0 and at most 10")
    if args.runs < 1 or args.workers < 1 or args.approvals < 1:
        parser.error("--runs, --workers and --approvals must be at least 1")
    return args


def database_url():
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        sys.exit(f"bench: DATABASE_URL must point to PostgreSQL, not {parsed.scheme or url!r}")
    name = parsed.path.lstrip("/")
    if "bench" not in name:
        sys.exit(
            f"bench: refusing to use database {name!r}: the benchmark drops and recreates its database, "
            "so its name must contain 'bench' (default grants_bench)"
        )
    return url, name


def prepare_database(url, name, *, reuse):
    """Drop and recreate the database (or keep it with --reuse); returns True when the
    dataset must be generated."""
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reuse:
            return False
        if exists:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Measured as deployed: no DEBUG query log, no debug pages.
    os.environ["DEBUG"] = "0"
    # Connections kept between requests, as behind a pooler (docs/deploy.md).
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
    import django

    # whitenoise: no collected static files are needed to measure.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()


def machine():
    import django
    import psutil
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "postgresql": pg,
        "shared_buffers": buffers,
        "python": platform.python_version(),
        "django": django.get_version(),
        "os": platform.platform(terse=True),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv=None):
    t0 = time.perf_counter()
    args = parse_args(argv)
    url, name = database_url()
    fresh = prepare_database(url, name, reuse=args.reuse)
    setup_django(url)
    from django.core.management import call_command

    from grants.models import GrantApplication

    from . import generate, measure, report

    started = datetime.datetime.now(datetime.UTC)
    print(f"bench: database {name}, scale {args.scale}")
    call_command("migrate", verbosity=0)
    generation = None
    if fresh or not GrantApplication.objects.exists():
        print("bench: generating the dataset ...")
        generation = generate.generate(scale=args.scale, progress=not args.no_progress)
        print(f"bench: generated in {generation['seconds']} s")
    else:
        print("bench: reusing the data already in the database (--reuse)")
    results = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": args.scale,
        "generation": generation,
        "dataset": report.dataset_counts(),
    }
    print("bench: measuring pages ...")
    measurer = measure.Measurer(runs=args.runs)
    measurer.run_pages()
    measurer.run_comparisons()
    measurer.run_export()
    results.update(measurer.as_dict())
    from . import donormem

    print("bench: donor report ...")
    results["donor_report"] = donormem.measure(username=measurer.users["manager"].username, url=url)
    print("  " + donormem.line(results["donor_report"]))
    if not args.skip_throughput:
        from . import throughput

        print("bench: transition throughput ...")
        results["throughput"] = throughput.run(url=url, workers=args.workers, per_worker=args.approvals)
    results["seconds"] = round(time.perf_counter() - t0, 1)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print()
    print(report.table(results))
    output = (
        Path(args.output) if args.output else RESULTS / f"{started:%Y%m%dT%H%M%SZ}-scale{args.scale:g}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nbench: results written to {output}")
    return results


if __name__ == "__main__":
    main()
