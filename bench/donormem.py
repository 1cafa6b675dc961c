"""Time and peak memory of writing one donor report (docs/reports.md, "The donor period
report") for a programme and a year, as the background task writes it (figures, XLSX,
PDF, stored), in a process of its own so that nothing the benchmark loaded before
counts: resident memory sampled every few milliseconds, as for the export."""

import multiprocessing
import os
import time

from .exportmem import _rss, _Sampler, wait_for

TARGET_SECONDS = 10
TARGET_MB = 200


def _busiest_programme_year(user):
    """The programme (in the user's scope) and year with the most deliveries."""
    from django.db.models import Count
    from django.db.models.functions import ExtractYear

    from grants.models import Delivery
    from reports import figures as reports

    row = (
        Delivery.objects.filter(application__programme__in=reports.reportable_programmes(user))
        .values("application__programme_id", year=ExtractYear("delivered_on"))
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    return (row["application__programme_id"], row["year"]) if row else (None, None)


def _child(url, username, results):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    import datetime

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from reports import generation
    from reports.models import DonorReport

    user = get_user_model().objects.get(username=username)
    programme_id, year = _busiest_programme_year(user)
    if programme_id is None:
        results.put({"note": "no deliveries in the dataset; not measured"})
        return
    report = DonorReport.objects.create(
        programme_id=programme_id,
        date_from=datetime.date(year, 1, 1),
        date_to=datetime.date(year, 12, 31),
        requested_by=user,
    )
    connection.queries_log.clear()
    start_rss = _rss()
    sampler = _Sampler()
    sampler.start()
    began = time.perf_counter()
    done = generation.generate_donor_report(report.pk)
    seconds = time.perf_counter() - began
    sampler.running = False
    sampler.join()
    report.refresh_from_db()
    results.put(
        {
            "programme": programme_id,
            "year": year,
            "user": username,
            "status": report.status,
            "error": report.error,
            "seconds": round(seconds, 2),
            "start_rss_mb": round(start_rss / 2**20, 1),
            "peak_rss_mb": round(sampler.peak / 2**20, 1),
            "rss_growth_mb": round((sampler.peak - start_rss) / 2**20, 1),
            "written": done,
        }
    )


def measure(*, username, url=None):
    url = url or os.environ["DATABASE_URL"]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_child, args=(url, username, results))
    process.start()
    try:
        outcome = wait_for(results, [process])
    finally:
        process.join(timeout=60)
    if "seconds" in outcome:
        outcome.update(target_seconds=TARGET_SECONDS, target_mb=TARGET_MB)
        outcome["met"] = bool(
            outcome["written"] and outcome["seconds"] < TARGET_SECONDS and outcome["peak_rss_mb"] < TARGET_MB
        )
    return outcome


def line(result):
    """The report's line for the donor report."""
    if not result:
        return ""
    if "seconds" not in result:
        return f"Donor report: {result.get('note')}."
    met = {True: "yes", False: "**no**"}[result["met"]]
    return (
        f"Donor report (programme {result['programme']}, {result['year']}, XLSX + PDF, as "
        f"{result['user']}): {result['seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB "
        f"(+{result['rss_growth_mb']:.0f} MB); targets < {result['target_seconds']} s and "
        f"< {result['target_mb']} MB: {met}."
    )
