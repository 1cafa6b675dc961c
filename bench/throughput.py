"""Transition throughput: N processes approving applications at once, through the service
layer and through the HTTP API served by gunicorn, then a check that nothing was lost.

Each worker has its own list of applications that are ready to approve (training done,
assessed, budget left); a tenth of each list is shared with the next worker, at the same
position, so that two approvers race for those and exactly one must win (the other gets a
409 conflict). One programme's budget is cut so that only about 70 % of its approvals fit:
refusals for budget are expected, an over-committed budget is not. Afterwards every
application is checked: the state, one active commitment of the approved amount, one
`approve` audit event, and the audit chain intact from where the run started."""

import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

from .exportmem import wait_for

BASE_DIR = Path(__file__).resolve().parent.parent
OVERLAP = 0.1
SQUEEZE = Decimal("0.7")


def ready_applications():
    from grants.models import GrantApplication
    from grants.workflow import State

    return list(
        GrantApplication.objects.filter(
            state=State.BUSINESS_TRAINING,
            assessments__is_current=True,
            assessments__recommendation="approve",
            assessments__complete=True,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def worker_lists(ids, workers, overlap=OVERLAP):
    """Disjoint chunks; worker i also starts with the first ids of worker i+1's chunk, so
    the two race for them at the same moment."""
    size = len(ids) // workers
    chunks = [ids[i * size : (i + 1) * size] for i in range(workers)]
    shared = max(1, round(size * overlap)) if workers > 1 and size > 1 else 0
    lists = []
    for i in range(workers):
        neighbour = chunks[(i + 1) % workers][:shared] if workers > 1 else []
        lists.append(neighbour + chunks[i])
    return lists, shared * workers if workers > 1 else 0


def squeeze_budget(ids):
    """Cut the budget of the programme with the most of `ids` so that ~70 % of its
    approvals fit. Returns what was done, for the results."""
    from django.db.models import Sum

    from grants.models import GrantApplication, Programme

    per_programme = Counter(
        GrantApplication.objects.filter(pk__in=ids).values_list("programme_id", flat=True)
    )
    if not per_programme:
        return None
    programme_id, count = per_programme.most_common(1)[0]
    wanted = GrantApplication.objects.filter(pk__in=ids, programme_id=programme_id).aggregate(
        total=Sum("requested_total")
    )["total"] or Decimal("0")
    # "Committed" as the approval guard counts it (grants.ledger).
    committed = Programme.objects.get(pk=programme_id).committed_amount()
    budget = (committed + wanted * SQUEEZE).quantize(Decimal("0.01"))
    Programme.objects.filter(pk=programme_id).update(budget=budget)
    return {"programme": programme_id, "applications": count, "requested": str(wanted), "budget": str(budget)}


def _setup(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    import django

    django.setup()


def _service_worker(index, url, username, ids, barrier, results):
    _setup(url)
    from django.contrib.auth import get_user_model

    from core.errors import Conflict, NotAllowed, NotVisible, RuleNotMet
    from grants import services
    from grants.models import GrantApplication

    User = get_user_model()
    User.objects.get(username=username)  # connect before the start
    barrier.wait()
    start = time.time()
    outcomes = []
    for app_id in ids:
        began = time.perf_counter()
        # Loaded fresh for every approval, as a request would.
        user = User.objects.get(username=username)
        try:
            services.take_transition(application=GrantApplication(pk=app_id), name="approve", by=user)
            outcome = "approved"
        except Conflict:
            outcome = "conflict"
        except RuleNotMet as exc:
            codes = [code for code, _m in exc.rules]
            outcome = "budget" if "budget_left" in codes else "refused:" + ",".join(codes)
        except (NotAllowed, NotVisible) as exc:
            outcome = f"refused:{type(exc).__name__}"
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            outcome = f"error:{type(exc).__name__}:{exc}"[:200]
        outcomes.append((app_id, outcome, (time.perf_counter() - began) * 1000))
    results.put({"worker": index, "start": start, "end": time.time(), "outcomes": outcomes})


def _http_worker(index, base, token, ids, barrier, results):
    barrier.wait()
    start = time.time()
    outcomes = []
    for app_id in ids:
        began = time.perf_counter()
        request = urllib.request.Request(
            f"{base}/api/v1/applications/{app_id}/transitions/approve/",
            data=json.dumps({"comment": "Approved in the benchmark."}).encode(),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        except OSError as exc:
            status, body = 0, str(exc).encode()
        if status == 200:
            outcome = "approved"
        elif status == 409:
            outcome = "conflict"
        elif status == 400 and b"budget_left" in body:
            outcome = "budget"
        elif status in (400, 403, 404):
            outcome = f"refused:{status}"
        else:
            outcome = f"error:{status}:{body[:120].decode(errors='replace')}"
        outcomes.append((app_id, outcome, (time.perf_counter() - began) * 1000))
    results.put({"worker": index, "start": start, "end": time.time(), "outcomes": outcomes})


def _run_workers(target, worker_args):
    """One process per argument tuple, released together; their reports."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(worker_args) + 1)
    results = context.Queue()
    processes = [context.Process(target=target, args=(*args, barrier, results)) for args in worker_args]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    collected = [wait_for(results, processes) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return collected


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn on a loopback port, started and stopped by the benchmark."""

    def __init__(self, url, workers):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # 409 and 400 answers are expected here; the log would only repeat them.
            "LOG_LEVEL": "ERROR",
        }
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.process = subprocess.Popen(  # noqa: S603 - our own virtualenv's gunicorn
            [str(gunicorn), "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--timeout", "120", "--log-level", "warning"],
            cwd=BASE_DIR, env=env,
        )  # fmt: skip

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def verify(ids, collected, audit_from, chain_from):
    """What the database says happened, against what the workers were told."""

    from grants.models import AuditEvent, Commitment, GrantApplication, Programme

    told = defaultdict(list)
    for batch in collected:
        for app_id, outcome, _ms in batch["outcomes"]:
            told[app_id].append(outcome)
    states = dict(GrantApplication.objects.filter(pk__in=ids).values_list("pk", "state"))
    approved_amount = dict(GrantApplication.objects.filter(pk__in=ids).values_list("pk", "approved_amount"))
    commitments = defaultdict(list)
    for app_id, amount in Commitment.objects.filter(application_id__in=ids, status="active").values_list(
        "application_id", "amount"
    ):
        commitments[app_id].append(amount)
    approve_events = Counter(
        AuditEvent.objects.filter(pk__gt=audit_from, application_id__in=ids, action="approve").values_list(
            "application_id", flat=True
        )
    )
    lost = double = unacknowledged = 0
    for app_id in set(ids):
        wins = told[app_id].count("approved")
        in_db = states.get(app_id) == "approved"
        consistent = (
            in_db
            and len(commitments[app_id]) == 1
            and commitments[app_id][0] == approved_amount[app_id]
            and approve_events[app_id] == 1
        )
        if wins > 1:
            double += 1
        if wins and not consistent:
            lost += 1
        if not wins and (in_db or commitments[app_id] or approve_events[app_id]):
            unacknowledged += 1
    over = []
    for programme in Programme.objects.all():
        committed = programme.committed_amount()
        if committed > programme.budget:
            over.append(
                {"programme": programme.pk, "budget": str(programme.budget), "committed": str(committed)}
            )
    return {
        "lost_updates": lost + double,
        "double_approvals": double,
        "unacknowledged": unacknowledged,
        "over_committed_programmes": len(over),
        "over_committed": over,
        "audit_chain_intact": chain_intact(chain_from),
    }


def chain_intact(start):
    """The events appended since `start` (id, hash of the event before) link up."""
    from grants.models import AuditChainHead, AuditEvent

    last_id, prev = start
    for event in AuditEvent.objects.filter(pk__gt=last_id).order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev or event.compute_hash() != event.hash:
            return False
        prev = event.hash
    return AuditChainHead.objects.get(pk=1).last_hash == prev


def chain_position():
    from grants.models import AuditEvent

    last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    return last or (0, "")


def summarise(path, workers, ids, shared, collected, checks, squeeze):
    outcomes = Counter()
    latencies = []
    for batch in collected:
        for _app, outcome, ms in batch["outcomes"]:
            kind = outcome.split(":", 1)[0]
            outcomes[kind] += 1
            latencies.append(ms)
    errors = [o for b in collected for _a, o, _m in b["outcomes"] if o.startswith("error")]
    seconds = max(b["end"] for b in collected) - min(b["start"] for b in collected)
    return {
        "path": path,
        "workers": workers,
        "attempts": sum(outcomes.values()),
        "applications": len(set(ids)),
        "raced_pairs": shared,
        "approved": outcomes["approved"],
        "conflicts": outcomes["conflict"],
        "refused_budget": outcomes["budget"],
        "refused_other": outcomes["refused"],
        "errors": outcomes["error"],
        "error_samples": errors[:5],
        "seconds": round(seconds, 2),
        "per_second": round(outcomes["approved"] / seconds, 1) if seconds else 0,
        "attempts_per_second": round(sum(outcomes.values()) / seconds, 1) if seconds else 0,
        "latency_median_ms": round(statistics.median(latencies), 1) if latencies else 0,
        "latency_p95_ms": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 1) if latencies else 0,
        "budget_squeeze": squeeze,
        **checks,
    }


def run(*, url, workers=4, per_worker=100, log=print):
    import random

    from django.contrib.auth import get_user_model
    from django.db import connection

    from applicants.tokens import issue_token

    from . import generate

    ready = ready_applications()
    random.Random(11).shuffle(ready)
    per_worker = min(per_worker, len(ready) // (2 * workers))
    if per_worker < 1:
        log("  not enough applications ready to approve; throughput not measured")
        return {"note": "not enough applications ready to approve", "modes": []}
    User = get_user_model()
    approvers = [generate.WORKER_MANAGER.format(i % generate.WORKER_MANAGERS) for i in range(workers)]
    modes = []
    for path in ("service layer", "HTTP API (gunicorn)"):
        ids = ready[: per_worker * workers]
        ready = ready[per_worker * workers :]
        lists, shared = worker_lists(ids, workers)
        squeeze = squeeze_budget(ids)
        audit_from, _hash = chain_from = chain_position()
        connection.close()
        if path == "service layer":
            collected = _run_workers(
                _service_worker, [(i, url, approvers[i], lists[i]) for i in range(workers)]
            )
        else:
            tokens = [issue_token(user=User.objects.get(username=u), device="bench")[1] for u in approvers]
            server = Gunicorn(url, workers)
            try:
                server.wait_ready()
                collected = _run_workers(
                    _http_worker, [(i, server.base, tokens[i], lists[i]) for i in range(workers)]
                )
            finally:
                server.stop()
        checks = verify(ids, collected, audit_from, chain_from)
        mode = summarise(path, workers, ids, shared, collected, checks, squeeze)
        modes.append(mode)
        log(
            f"  {path:<20} {mode['approved']} approved of {mode['attempts']} attempts in {mode['seconds']} s "
            f"({mode['per_second']}/s), {mode['conflicts']} conflicts, {mode['refused_budget']} refused for budget, "
            f"{mode['errors']} errors, {mode['lost_updates']} lost updates, "
            f"{mode['over_committed_programmes']} over-committed, audit chain intact: {mode['audit_chain_intact']}"
        )
    return {"modes": modes, "per_worker": per_worker, "overlap": OVERLAP}
