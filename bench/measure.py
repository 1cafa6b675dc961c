"""Server time and query count of the pages people wait for, measured in-process.

Each page is requested through django.test.Client (the whole middleware stack, the view
and the rendering, no network) by a logged-in user of the right role: a few warm-up
requests, then `runs` timed ones (median and p95), and one more inside
CaptureQueriesContext for the query count. Pages another part of the project has not
built yet are reported as missing, not guessed."""

import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from grants.models import GrantApplication

from . import generate

# Targets from issue 9 (ms for the median; queries per request).
TARGETS = {
    "inbox": {"median_ms": 45, "queries": 8},
    "application": {"median_ms": 30, "queries": 15},
    "report": {"median_ms": 200},
    # Issue 17: the approvals queue page, possible-duplicate flag included.
    "approvals": {"median_ms": 50},
}
PAGE_SIZE = 50


@dataclass
class Result:
    name: str
    path: str
    user: str
    runs: int
    median_ms: float
    p95_ms: float
    min_ms: float
    queries: int
    status: int
    rows: int | None = None
    target_ms: float | None = None
    target_queries: int | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def met(self):
        ok = True
        if self.target_ms is not None:
            ok = ok and self.median_ms < self.target_ms
        if self.target_queries is not None:
            ok = ok and self.queries <= self.target_queries
        return ok

    def as_dict(self):
        data = asdict(self)
        data["met"] = self.met if (self.target_ms or self.target_queries) else None
        return data


def percentile(values, share):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def timed(call, runs, warmup=3, cpu=None):
    """Milliseconds of `runs` calls after `warmup` untimed ones. With `cpu` (a dict), also
    the CPU milliseconds per call that this process and its PostgreSQL backend spent:
    unlike the wall time, that does not grow when other work shares the machine."""
    for _ in range(warmup):
        call()
    before = cpu_seconds()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    after = cpu_seconds()
    if cpu is not None:
        cpu["app_ms"] = round((after[0] - before[0]) / runs * 1000, 2)
        if before[1] is not None and after[1] is not None and before[2] == after[2]:
            cpu["db_ms"] = round((after[1] - before[1]) / runs * 1000, 2)
    return samples


def cpu_seconds():
    """(CPU seconds of this process, of its PostgreSQL backend or None, backend pid)."""
    own = time.process_time()
    if connection.vendor != "postgresql" or connection.connection is None:
        return own, None, None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return own, None, pid
    ticks = os.sysconf("SC_CLK_TCK")
    return own, (int(fields[11]) + int(fields[12])) / ticks, pid


def summary(samples):
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "min_ms": round(min(samples), 2),
    }


TRANSACTION_CONTROL = (
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE SAVEPOINT",
    "ROLLBACK TO SAVEPOINT",
)


def count_queries(call):
    """SQL statements of one call, not counting transaction control (BEGIN, COMMIT and
    savepoints: ATOMIC_REQUESTS wraps every request), and all of them."""
    with CaptureQueriesContext(connection) as captured:
        call()
    statements = [q["sql"] for q in captured.captured_queries]
    queries = [sql for sql in statements if not sql.upper().startswith(TRANSACTION_CONTROL)]
    return len(queries), statements


def client_for(user):
    """A logged-in client; staff sessions are also marked as verified with their TOTP
    device, as after a real two-factor login."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client(HTTP_HOST="localhost")
    client.force_login(user, backend="applicants.backends.ModelBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def consume(response):
    if response.streaming:
        size = 0
        for chunk in response.streaming_content:
            size += len(chunk)
        return size
    return len(response.content)


def url_for(*candidates):
    """The first of (url name, args) that the project defines, or None."""
    for name, args in candidates:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return None


class PaginatorSpy:
    """Catches the queryset a page view hands to its paginator (`paginate(request, qs)`),
    so that its data step can be timed on exactly the query the page runs."""

    def __init__(self, path):
        self.module = None
        self.queryset = None
        try:
            module = sys.modules[resolve(path.split("?")[0]).func.__module__]
        except (Resolver404, KeyError):
            return
        if hasattr(module, "paginate"):
            self.module = module

    def __enter__(self):
        if self.module is not None:
            self.original = self.module.paginate

            def spy(request, queryset, *args, **kwargs):
                self.queryset = queryset
                return self.original(request, queryset, *args, **kwargs)

            self.module.paginate = spy
        return self

    def __exit__(self, *exc):
        if self.module is not None:
            self.module.paginate = self.original


class Measurer:
    def __init__(self, *, runs=50, warmup=3, page_budget=90, log=print):
        self.runs = runs
        self.warmup = warmup
        self.page_budget = page_budget
        self.log = log
        self.results = []
        self.comparisons = {}
        self.export = None
        User = get_user_model()
        self.users = {
            "officer": User.objects.get(username=generate.OFFICER),
            "manager": User.objects.get(username=generate.MANAGER),
            "applicant": User.objects.get(username=generate.APPLICANT),
            "admin": User.objects.get(username=generate.ADMIN),
            "finance": User.objects.get(username=generate.WORKER_MANAGER.format(0)),
        }
        self.clients = {}
        self.inbox = {}

    def client(self, who):
        if who not in self.clients:
            self.clients[who] = client_for(self.users[who])
        return self.clients[who]

    def page(self, name, path, who, *, target=None, note=""):
        client = self.client(who)
        began = time.perf_counter()
        response = client.get(path)
        consume(response)
        first = time.perf_counter() - began
        if response.status_code != 200:
            self.log(f"  {name}: {path} answered {response.status_code}; not measured")
            self.results.append(
                Result(name, path, self.users[who].username, 0, 0, 0, 0, 0, response.status_code, note=note)
            )
            return None

        def call():
            consume(client.get(path))

        # A page that takes seconds is measured fewer times (at least 5), so that one slow
        # page cannot hold the whole run up; the results say how many runs it got.
        runs = (
            self.runs
            if first * (self.runs + self.warmup) <= self.page_budget
            else max(5, int(self.page_budget / first))
        )
        warmup = self.warmup if runs == self.runs else min(self.warmup, 1)
        cpu = {}
        samples = timed(call, runs, warmup, cpu)
        queries, statements = count_queries(call)
        target = target or {}
        result = Result(
            name=name,
            path=path,
            user=self.users[who].username,
            runs=runs,
            queries=queries,
            status=200,
            target_ms=target.get("median_ms"),
            target_queries=target.get("queries"),
            note=note,
            extra={"statements_with_transaction_control": len(statements), **cpu},
            **summary(samples),
        )
        self.results.append(result)
        self.log(
            f"  {name:<34} median {result.median_ms:7.1f} ms  p95 {result.p95_ms:7.1f} ms  {queries:3d} queries"
        )
        return result

    # ---- the pages -------------------------------------------------------------------

    def run_pages(self):
        from grants import selectors

        officer = self.users["officer"]
        visible = selectors.applications_for(officer).count()
        self.deep_page = min(1000, max(1, -(-visible // PAGE_SIZE)))
        ui_inbox = url_for(("inbox", ()))
        api_list = reverse("api:applications")
        self.inbox_variant = "UI" if ui_inbox else "API"
        for page in (1, self.deep_page):
            if ui_inbox:
                path = f"{ui_inbox}?page={page}"
                with PaginatorSpy(path) as spy:
                    self.client("officer").get(path)
                self.inbox[page] = spy.queryset
                self.page(f"inbox page {page:,}", path, "officer", target=TARGETS["inbox"], note="UI")
            self.page(
                f"inbox page {page:,}, API" if ui_inbox else f"inbox page {page:,}",
                f"{api_list}?page={page}",
                "officer",
                target=TARGETS["inbox"],
                note="API list",
            )

        application = self.rich_application()
        ui = url_for(("application-detail", (application.pk,)))
        if ui:
            self.page("application page", ui, "officer", target=TARGETS["application"], note="UI")
        self.page(
            "application page, API" if ui else "application page",
            reverse("api:application", args=[application.pk]),
            "officer",
            target=TARGETS["application"],
            note="API",
        )
        mine = url_for(("my-applications", ()))
        if mine:
            self.page("applicant's own list", mine, "applicant", note="UI")
        self.page(
            "applicant's own list, API" if mine else "applicant's own list", api_list, "applicant", note="API"
        )
        queue = url_for(("approvals", ()))
        if queue:
            self.page(
                "approvals queue",
                queue,
                "manager",
                target=TARGETS["approvals"],
                note="UI (assessments.selectors.approvals_page)",
            )
        self.page(
            "approvals queue, API" if queue else "approvals queue",
            f"{api_list}?state=business_training",
            "manager",
            note="API (?state=business_training, as the approvals queue)",
        )
        for report in ("budget", "impact"):
            path = url_for((f"api:report-{report}", ()))
            if path is None:
                self.log(f"  {report} report: not built yet; not measured")
                self.results.append(
                    Result(f"{report} report", "", "", 0, 0, 0, 0, 0, 0, note="not built yet")
                )
                continue
            self.page(f"{report} report", path, "manager", target=TARGETS["report"], note="API")

    def rich_application(self):
        """An application of the officer's centres with a long history: items, training,
        assessment, deliveries, documents, visits and audit events on one page."""
        from grants import selectors

        mine = selectors.applications_for(self.users["officer"])
        return (
            mine.filter(state="follow_up", visits__visited_on__isnull=False).order_by("-id").first()
            or mine.order_by("-id").first()
        )

    # ---- comparisons -----------------------------------------------------------------

    def run_comparisons(self):
        """The inbox's data step (its own queryset: the count and the page's rows) against
        one hand-written SQL query for the same rows and the columns the page shows (the
        floor); then the whole page against Django admin's changelist."""
        from django.utils import timezone

        from grants import selectors

        user = self.users["officer"]
        today = timezone.localdate()
        for page in (1, self.deep_page):
            offset = (page - 1) * PAGE_SIZE
            queryset = self.inbox.get(page)
            if queryset is None:
                queryset = selectors.applications_with_items(user)
            sql = FLOOR_SQL_UI if self.inbox_variant == "UI" else FLOOR_SQL_API

            def orm_rows(queryset=queryset, offset=offset):
                return list(queryset.all()[offset : offset + PAGE_SIZE])

            def orm_page(queryset=queryset, orm_rows=orm_rows):
                queryset.all().count()
                return orm_rows()

            def floor(offset=offset, sql=sql):
                with connection.cursor() as cursor:
                    cursor.execute(
                        sql, {"user": user.pk, "today": today, "limit": PAGE_SIZE, "offset": offset}
                    )
                    return cursor.fetchall()

            if [r[0] for r in floor()] != [a.pk for a in orm_rows()]:
                raise RuntimeError("the raw SQL floor and the inbox disagree on the rows")
            rows = summary(timed(orm_rows, self.runs, self.warmup))
            data = summary(timed(orm_page, self.runs, self.warmup))
            base = summary(timed(floor, self.runs, self.warmup))
            self.comparisons[f"inbox page {page:,} data step"] = {
                "inbox": self.inbox_variant,
                "orm_rows_ms": rows["median_ms"],
                "orm_count_and_rows_ms": data["median_ms"],
                "raw_sql_floor_ms": base["median_ms"],
                "ratio_rows_to_floor": round(rows["median_ms"] / base["median_ms"], 2),
                "ratio_with_count_to_floor": round(data["median_ms"] / base["median_ms"], 2),
                "target_ratio": 3,
            }
            self.log(
                f"  data step page {page:,}: ORM rows {rows['median_ms']:.1f} ms, with the count "
                f"{data['median_ms']:.1f} ms; raw SQL floor {base['median_ms']:.1f} ms "
                f"(x{rows['median_ms'] / base['median_ms']:.2f}, x{data['median_ms'] / base['median_ms']:.2f})"
            )
        self.run_admin()

    def run_admin(self):
        from django.contrib import admin

        registered = admin.site.is_registered(GrantApplication)
        note = (
            "grants/admin.py"
            if registered
            else "a default ModelAdmin (grants/admin.py does not register one)"
        )
        if not registered:
            admin.site.register(GrantApplication, default_admin())
        try:
            path = reverse("admin:grants_grantapplication_changelist")
        except NoReverseMatch:
            self.log("  admin changelist: the admin site is not routed; not compared")
            return
        who = "officer"
        officer = self.users["officer"]
        if not officer.is_staff:
            type(officer).objects.filter(pk=officer.pk).update(is_staff=True)
            officer.is_staff = True
        if self.client("officer").get(path).status_code != 200:
            who, note = "admin", note + "; as a superuser (the officer may not open it)"
        per_page = admin.site.get_model_admin(GrantApplication).list_per_page
        for page in (1, self.deep_page):
            inbox = next((r for r in self.results if r.name == f"inbox page {page:,}"), None)
            # The admin page holding the inbox page's first row.
            admin_page = (page - 1) * PAGE_SIZE // per_page + 1
            result = self.page(
                f"admin changelist page {admin_page:,}",
                f"{path}?p={admin_page}",
                who,
                note=f"{note}; {per_page} rows a page",
            )
            if result is None or inbox is None or not inbox.status:
                continue
            self.comparisons[f"inbox page {page:,} vs admin"] = {
                "inbox_ms": inbox.median_ms,
                "admin_ms": result.median_ms,
                "ratio": round(inbox.median_ms / result.median_ms, 2),
                "target_ratio": 0.5,
                "admin_rows_per_page": per_page,
                "admin_user": result.user,
                "admin": note,
            }

    # ---- export ------------------------------------------------------------------------

    def run_export(self):
        from . import exportmem

        path = url_for(("api:report-ledger-export", ("csv",)))
        if path is None:
            self.export = {"note": "no CSV export of report lines is built yet; not measured"}
            self.log("  export: " + self.export["note"])
            return
        self.export = exportmem.measure(path=path, username=self.users["finance"].username)
        self.log(
            f"  export {path}: {self.export['rows']:,} rows in {self.export['seconds']:.1f} s, peak RSS "
            f"{self.export['peak_rss_mb']:.0f} MB (+{self.export['rss_growth_mb']:.0f} MB), Python heap peak "
            f"{self.export['python_peak_mb']:.1f} MB"
        )

    def as_dict(self):
        return {
            "pages": [r.as_dict() for r in self.results],
            "comparisons": self.comparisons,
            "export": self.export,
            "runs": self.runs,
            "debug": settings.DEBUG,
        }


def default_admin():
    """What a small NGO gets from `admin.site.register`, with the inbox's columns."""
    from django.contrib import admin

    class DefaultAdmin(admin.ModelAdmin):
        list_display = [
            "business_name",
            "applicant",
            "programme",
            "centre",
            "state",
            "requested_total",
            "created_at",
        ]
        list_per_page = PAGE_SIZE

    return DefaultAdmin


# The rows of the page: the visible applications, newest first, 50 after `offset` others,
# found by their ids first as a careful hand-written query would (a plain ORDER BY ...
# OFFSET joins every skipped row and is far slower on deep pages).
_PAGE_IDS = """
 WHERE a.id IN (SELECT v.id FROM grants_grantapplication v
                 WHERE v.centre_id IN (SELECT u.content_object_id
                                         FROM applicants_integrationcentreuserobjectpermission u
                                         JOIN auth_permission pe ON pe.id = u.permission_id
                                        WHERE u.user_id = %(user)s AND pe.codename = 'access_centre')
                 ORDER BY v.created_at DESC, v.id DESC
                 LIMIT %(limit)s OFFSET %(offset)s)
 ORDER BY a.created_at DESC, a.id DESC
"""
# What the UI inbox shows: number, business, overdue visit, applicant, centre, state,
# programme, requested total and currency.
FLOOR_SQL_UI = (
    """
SELECT a.id, a.business_name, a.state, a.requested_total, p.first_name, p.last_name, c.name, g.name, g.currency,
       a.state = 'follow_up' AND EXISTS (SELECT 1 FROM assessments_monitoringvisit mv
                WHERE mv.application_id = a.id AND mv.visited_on IS NULL AND mv.due_on < %(today)s)
  FROM grants_grantapplication a
  JOIN applicants_applicant p ON p.id = a.applicant_id
  JOIN grants_programme g ON g.id = a.programme_id
  JOIN applicants_integrationcentre c ON c.id = a.centre_id
"""
    + _PAGE_IDS
)
# What the API list returns (docs/api.md), items included.
FLOOR_SQL_API = (
    """
SELECT a.id, a.state, a.applicant_id, p.first_name || ' ' || p.last_name, a.programme_id, g.name,
       g.currency, a.centre_id, c.name, a.business_name, a.sector, a.is_cooperative, a.requested_total,
       a.approved_amount, a.assigned_officer_id, a.created_at, a.submitted_at, a.approved_at,
       a.delivered_at, a.closed_at,
       (SELECT json_agg(json_build_object('id', i.id, 'description', i.description, 'quantity', i.quantity,
                                          'unit_cost', i.unit_cost) ORDER BY i.position, i.id)
          FROM grants_equipmentitem i WHERE i.application_id = a.id) AS items
  FROM grants_grantapplication a
  JOIN applicants_applicant p ON p.id = a.applicant_id
  JOIN grants_programme g ON g.id = a.programme_id
  JOIN applicants_integrationcentre c ON c.id = a.centre_id
"""
    + _PAGE_IDS
)
