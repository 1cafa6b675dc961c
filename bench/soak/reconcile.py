"""After the load: what each request was told (the locust log) against the database.

A write's outcome is its key's last answer: 2xx acknowledged, anything else refused
(retries with the same key make a 503 or a lost answer definite). Then, per kind of
write, the rows the run created must be exactly the acknowledged ones:

- drafts, documents, enrolments, assessments, deliveries: the rows created since the
  start are exactly the ids the acknowledged answers named (none twice, none refused);
- transitions (submit, admit to training, approve): the audit events of each
  application and step since the start equal the acknowledged requests for them;
- edits: each draft's name is the one its last acknowledged edit set;
- attendance: each acknowledged mark is in the database with the value it set, and
  every mark written since the start was acknowledged;
- monitoring visits: the visits whose notes carry a run's key are exactly the
  acknowledged ones.

Then: no programme or call over-committed; every notification of the run sent exactly
once by the mail sink or still queued; `verify_audit` valid; `sweep_orphans` finds
nothing (objects of any age)."""

import io
import json
import statistics
import time
from collections import Counter, defaultdict

KILLED_APP_SERVER = "app server killed"
TRANSITIONS = {"submit": "submit", "admit to training": "admit_to_training", "approve": "approve"}
CREATED = {
    "create draft": ("grants", "GrantApplication"),
    "upload document": ("grants", "Document"),
    "enrol": ("assessments", "Enrolment"),
    "assessment": ("assessments", "Assessment"),
    "record delivery": ("grants", "Delivery"),
}


def model(app_label, name):
    from django.apps import apps

    return apps.get_model(app_label, name)


def mark():
    """Where the database stands before the load: the highest id of each table the
    reconciliation reads, and the time."""
    from assessments.models import Attendance
    from grants.models import AuditEvent, Notification

    marks = {kind: model(*m).objects.order_by("-pk").values_list("pk", flat=True).first() or 0
             for kind, m in CREATED.items()}  # fmt: skip
    marks["audit"] = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    marks["attendance"] = Attendance.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    marks["notification"] = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    marks["t"] = time.time()
    return marks


def read_log(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.endswith("\n")]


def outcomes(records):
    """Each write key's attempts and its final answer."""
    by_key = defaultdict(list)
    for record in records:
        if record["key"]:
            by_key[record["key"]].append(record)
    final = {}
    for key, attempts in by_key.items():
        attempts.sort(key=lambda r: r["attempt"])
        final[key] = attempts[-1]
    return final


def drain_outbox(timeout=60):
    """Wait until no notification of the run is still unsent and untried (the workers
    keep running); killed-mid-send ones stay queued for the retry."""
    from django.db import connection

    from grants.models import Notification

    deadline = time.time() + timeout
    while time.time() < deadline:
        waiting = Notification.objects.filter(status=Notification.Status.PENDING, attempts=0).count()
        connection.close()
        if not waiting:
            return
        time.sleep(1)


def reconcile(*, requests_log, mail_log, mark):
    records = read_log(requests_log)
    final = outcomes(records)
    acked = [r for r in final.values() if 200 <= r["status"] < 300]
    refused = [r for r in final.values() if not 200 <= r["status"] < 300]
    result = {
        "writes": len(final),
        "acknowledged": len(acked),
        "refused": len(refused),
        "refused_by_status": dict(Counter(str(r["status"]) for r in refused)),
        "unanswered_after_retries": sum(1 for r in refused if r["status"] in (0, 502, 503, 504)),
        "replayed_answers": sum(1 for r in records if r.get("replayed")),
        "kinds": {},
    }
    lost = duplicated = unexpected = 0

    for kind, (app_label, name) in CREATED.items():
        Model = model(app_label, name)
        told = Counter(r["id"] for r in acked if r["kind"] == kind)
        created = Counter(Model.objects.filter(pk__gt=mark[kind]).values_list("pk", flat=True))
        k_lost = sum(1 for pk in told if pk not in created)
        k_dup = sum(n - 1 for n in told.values() if n > 1)
        # Rows created in the run that no acknowledged answer named: a refused write that
        # was kept anyway (or a write this log did not see).
        k_unexpected = sum(1 for pk in created if pk not in told)
        result["kinds"][kind] = {"acknowledged": sum(told.values()), "in_database": len(created),
                                 "lost": k_lost, "duplicated": k_dup, "unacknowledged_in_database": k_unexpected}  # fmt: skip
        lost, duplicated, unexpected = lost + k_lost, duplicated + k_dup, unexpected + k_unexpected

    from grants.models import AuditEvent

    events = Counter(
        AuditEvent.objects.filter(pk__gt=mark["audit"], action__in=set(TRANSITIONS.values())).values_list(
            "application_id", "action"
        )
    )
    for kind, action in TRANSITIONS.items():
        told = Counter((r["app"], action) for r in acked if r["kind"] == kind)
        in_db = Counter({pair: n for pair, n in events.items() if pair[1] == action})
        k_lost = sum(max(0, n - in_db[pair]) for pair, n in told.items())
        k_extra = sum(max(0, n - told[pair]) for pair, n in in_db.items())
        k_dup = sum(n - 1 for n in in_db.values() if n > 1)
        result["kinds"][kind] = {"acknowledged": sum(told.values()), "in_database": sum(in_db.values()),
                                 "lost": k_lost, "duplicated": k_dup, "unacknowledged_in_database": k_extra}  # fmt: skip
        lost, duplicated, unexpected = lost + k_lost, duplicated + k_dup, unexpected + k_extra

    result["kinds"]["edit draft"] = check_edits(acked)
    result["kinds"]["attendance"] = check_attendance(acked, mark)
    result["kinds"]["record visit"] = check_visits(acked, refused)
    for kind in ("edit draft", "attendance", "record visit"):
        lost += result["kinds"][kind]["lost"]
        duplicated += result["kinds"][kind]["duplicated"]
        unexpected += result["kinds"][kind]["unacknowledged_in_database"]
    result.update(lost=lost, duplicated=duplicated, unacknowledged_in_database=unexpected)
    result["budgets"] = check_budgets()
    result["notifications"] = check_notifications(mail_log, mark)
    result["audit"] = check_audit()
    result["orphans"] = check_orphans()
    return result


def check_edits(acked):
    from grants.models import GrantApplication

    last = {}
    for r in sorted((r for r in acked if r["kind"] == "edit draft"), key=lambda r: r["end"]):
        last[r["app"]] = r["value"]
    names = dict(GrantApplication.objects.filter(pk__in=last).values_list("pk", "business_name"))
    wrong = sum(1 for app, value in last.items() if names.get(app) != value)
    return {"acknowledged": sum(1 for r in acked if r["kind"] == "edit draft"), "in_database": len(last) - wrong,
            "lost": wrong, "duplicated": 0, "unacknowledged_in_database": 0}  # fmt: skip


def check_attendance(acked, mark):
    from assessments.models import Attendance

    last = {}
    for r in sorted((r for r in acked if r["kind"] == "attendance"), key=lambda r: r["end"]):
        last[(r["session"], r["app"])] = r["value"]
    rows = {
        (s, a): p
        for s, a, p in Attendance.objects.filter(session_id__in={s for s, _ in last}).values_list(
            "session_id", "enrolment__application_id", "present"
        )
    }
    wrong = sum(1 for pair, value in last.items() if rows.get(pair) != value)
    new = set(
        Attendance.objects.filter(pk__gt=mark["attendance"]).values_list(
            "session_id", "enrolment__application_id"
        )
    )
    extra = sum(1 for pair in new if pair not in last)
    return {"acknowledged": sum(1 for r in acked if r["kind"] == "attendance"), "in_database": len(last) - wrong,
            "lost": wrong, "duplicated": 0, "unacknowledged_in_database": extra}  # fmt: skip


def check_visits(acked, refused):
    from assessments.models import MonitoringVisit

    told = {r["key"] for r in acked if r["kind"] == "record visit"}
    notes = Counter(
        note.removeprefix("soak ")
        for note in MonitoringVisit.objects.filter(notes__startswith="soak ").values_list("notes", flat=True)
    )
    lost = sum(1 for key in told if key not in notes)
    dup = sum(n - 1 for n in notes.values() if n > 1)
    extra = sum(1 for key in notes if key not in told)
    return {"acknowledged": len(told), "in_database": sum(notes.values()), "lost": lost, "duplicated": dup,
            "unacknowledged_in_database": extra}  # fmt: skip


def check_budgets():
    from grants.models import Call, Programme

    over = []
    for programme in Programme.objects.all():
        committed = programme.committed_amount()
        if committed > programme.budget:
            over.append(
                {"programme": programme.pk, "budget": str(programme.budget), "committed": str(committed)}
            )
    for call in Call.objects.exclude(budget=None):
        committed = call.committed_amount()
        if committed > call.budget:
            over.append({"call": call.pk, "budget": str(call.budget), "committed": str(committed)})
    return {"over_committed": len(over), "details": over}


def check_notifications(mail_log, mark):
    from bench.soak.mailsink import fingerprint
    from grants.models import Notification

    sent_lines = Counter()
    try:
        for record in read_log(mail_log):
            if record["phase"] == "sent":
                sent_lines[record["fingerprint"]] += 1
    except FileNotFoundError:
        pass
    rows = Notification.objects.filter(pk__gt=mark["notification"])
    status = Counter(rows.values_list("status", flat=True))
    sent_rows = Counter(
        fingerprint(email, subject, body)
        for email, subject, body in rows.filter(status="sent", channel="email").values_list(
            "email", "subject", "body"
        )
    )
    twice = sum(max(0, n - sent_rows[f]) for f, n in sent_lines.items())
    marked_not_sent = sum(max(0, n - sent_lines[f]) for f, n in sent_rows.items())
    queued = rows.filter(status="pending")
    return {
        "created": sum(status.values()),
        "by_status": dict(status),
        "sent_by_the_sink": sum(sent_lines.values()),
        "sent_twice": twice,
        "marked_sent_but_not_sent": marked_not_sent,
        "still_queued": queued.count(),
        "still_queued_after_a_try": queued.filter(attempts__gt=0).count(),
    }


def check_audit():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
        valid = True
    except (CommandError, SystemExit):
        valid = False
    return {"valid": valid, "output": (out.getvalue() + err.getvalue()).strip()[-1500:]}


def check_orphans():
    from django.core.management import call_command

    from grants import documents

    found = documents.find_orphans(older_than_minutes=0)
    out = io.StringIO()
    call_command("sweep_orphans", "--older-than", "0", stdout=out)
    return {
        "objects_without_row": len(found.objects),
        "rows_without_object": len(found.rows),
        "output": out.getvalue().strip()[-1500:],
    }


# ---- what the requests were told, by kind and phase --------------------------------------


def percentile(values, share):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def phase_of(record, faults):
    """The fault whose window the request overlaps (the latest begun, when windows overlap)."""
    phase = "normal"
    for fault in sorted(faults, key=lambda f: f["window"][0]):
        start, end = fault["window"]
        if record["t"] <= end and record["end"] >= start:
            phase = fault["fault"]
    return phase


def request_stats(requests_log, faults, *, started):
    records = read_log(requests_log)
    if not records:
        return {"total": 0}
    end = max(r["end"] for r in records)
    seconds = max(1.0, end - started)
    by_kind = defaultdict(list)
    for r in records:
        by_kind[r["kind"]].append(r)
    kinds = {}
    for kind, rows in sorted(by_kind.items()):
        ms = [(r["end"] - r["t"]) * 1000 for r in rows]
        kinds[kind] = {
            "requests": len(rows),
            "per_second": round(len(rows) / seconds, 2),
            "p50_ms": percentile(ms, 0.50),
            "p95_ms": percentile(ms, 0.95),
            "p99_ms": percentile(ms, 0.99),
            "mean_ms": round(statistics.fmean(ms), 1),
        }
    errors = Counter()
    bad_outside, bad_inside, cut = [], [], []
    for r in records:
        phase = phase_of(r, faults)
        if r["status"] >= 400 or r["status"] == 0:
            errors[(phase, str(r["status"]))] += 1
        server_error = r["status"] >= 500 or r["status"] == 0
        if not server_error:
            continue
        if phase == "normal":
            bad_outside.append(r)
        elif r["status"] == 0 and phase == KILLED_APP_SERVER:
            # The server died with the request in flight or its answer half sent: the
            # proxy can only close the connection. Counted apart (a write's retry with
            # its key settles it; the reconciliation checks that).
            cut.append(r)
        elif r["status"] != 503 or not r.get("retry_after"):
            bad_inside.append(r)
    all_ms = [(r["end"] - r["t"]) * 1000 for r in records]
    windows = []
    for fault in faults:
        start, end = fault["window"]
        inside = [r for r in records if r["t"] <= end and r["end"] >= start]
        answered = [r for r in inside if 0 < r["status"] < 500]
        span = max(1.0, end - start)
        windows.append({
            "fault": fault["fault"], "seconds": round(span, 1), "requests": len(inside),
            "answered_per_second": round(len(answered) / span, 2),
            "p95_ms": percentile([(r["end"] - r["t"]) * 1000 for r in inside], 0.95),
            "status_503": sum(1 for r in inside if r["status"] == 503),
            "no_answer": sum(1 for r in inside if r["status"] == 0),
        })  # fmt: skip
    answered = [r for r in records if 0 < r["status"] < 500]
    return {
        "answered_per_second": round(len(answered) / seconds, 2),
        "fault_windows": windows,
        "total": len(records),
        "seconds": round(seconds, 1),
        "per_second": round(len(records) / seconds, 2),
        "p50_ms": percentile(all_ms, 0.50),
        "p95_ms": percentile(all_ms, 0.95),
        "p99_ms": percentile(all_ms, 0.99),
        "by_kind": kinds,
        "errors_by_phase_and_status": [
            {"phase": phase, "status": status, "count": n} for (phase, status), n in sorted(errors.items())
        ],
        "server_errors_outside_fault_windows": len(bad_outside),
        "server_errors_inside_windows_not_503_with_retry_after": len(bad_inside),
        "connections_cut_by_the_app_server_kill": len(cut),
        "samples": [
            {k: r.get(k) for k in ("t", "kind", "path", "status", "code", "retry_after")}
            for r in (bad_outside + bad_inside)[:10]
        ],
    }


def verdict(result):
    rec = result.get("reconciliation", {})
    req = result.get("requests", {})
    faults_ok = all("error" not in f and f.get("recovered") for f in result.get("faults", []))
    return bool(
        rec
        and rec["lost"] == 0
        and rec["duplicated"] == 0
        and rec["unacknowledged_in_database"] == 0
        and rec["budgets"]["over_committed"] == 0
        and rec["notifications"]["sent_twice"] == 0
        and rec["notifications"]["marked_sent_but_not_sent"] == 0
        and rec["audit"]["valid"]
        and rec["orphans"]["objects_without_row"] == 0
        and rec["orphans"]["rows_without_object"] == 0
        and req.get("server_errors_outside_fault_windows", 1) == 0
        and req.get("server_errors_inside_windows_not_503_with_retry_after", 1) == 0
        and faults_ok
        and (result["mode"] == "baseline" or len(result.get("faults", [])) >= 4)
    )
