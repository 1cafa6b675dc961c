"""The soak's workload (locust, headless): a working day's mix through the API, each
simulated person acting with their own token, on what their role and centre show them.

- applicants (the most numerous) read their applications, create drafts, edit them,
  upload business plans and submit;
- field officers work their inbox, enrol and admit submitted applications to training,
  record attendance, assessments and monitoring visits;
- programme managers read the approvals queue and approve against tight budgets (two
  managers of a country race for the same applications);
- finance officers record deliveries and read the budget report and its export;
- auditors read the reports and exports.

Every write carries a fresh `Idempotency-Key`; an answer of 502/503/504 or none at all
is retried with the same key after its Retry-After (at most 6 tries). Each attempt is
logged to SOAK_REQUESTS_LOG (JSONL): when, who, what, the status, the key, the ids it
was told and what it asked to be written, for bench.soak.reconcile."""

import datetime
import json
import os
import random
import time
import uuid

from locust import HttpUser, between, task

ACTORS = json.loads(open(os.environ["SOAK_ACTORS"]).read())  # noqa: SIM115, PTH123 - read once
LOG = open(os.environ["SOAK_REQUESTS_LOG"], "a", buffering=1)  # noqa: SIM115, PTH123 - for the whole run
RETRIABLE = {0, 502, 503, 504}
MAX_TRIES = 6
TODAY = datetime.date.today()


def tiny_pdf(*objects):
    """A PDF of the given objects with the cross-reference table readers need (as
    demo.seed.tiny_pdf; locust does not load Django)."""
    body = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj%sendobj\n" % (number, obj)
    table = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return body + (
        b"xref\n0 %d\n0000000000 65535 f \n%strailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, table, len(objects) + 1, len(body))
    )


PDF = tiny_pdf(b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>")
_taken = {}


class Actor(HttpUser):
    abstract = True
    role = ""
    wait_time = between(0.5, 2.5)

    def on_start(self):
        pool = ACTORS[self.role]
        n = _taken.get(self.role, 0)
        _taken[self.role] = n + 1
        self.actor = pool[n % len(pool)]
        self.rnd = random.Random()

    def call(self, kind, method, path, *, body=None, data=None, files=None, **facts):
        """One request (retried with its key when it is a write the service could not
        answer); returns (status, parsed JSON or None)."""
        write = method != "GET"
        key = uuid.uuid4().hex if write else None
        parsed = None
        for attempt in range(1, MAX_TRIES + 1):
            headers = {"Authorization": f"Token {self.actor['token']}"}
            if key:
                headers["Idempotency-Key"] = key
            payload = body(key) if callable(body) else body
            started = time.time()
            with self.client.request(
                method, f"/api/v1/{path}", name=kind, headers=headers, json=payload, data=data,
                files=files, catch_response=True, timeout=60, allow_redirects=False,
            ) as response:  # fmt: skip
                status = response.status_code or 0
                parsed = None
                if "json" in (response.headers.get("Content-Type") or ""):
                    try:
                        parsed = response.json()
                    except ValueError:
                        parsed = None
                if 0 < status < 500:
                    response.success()  # a refusal is an answer, not a failure of the service
                record = {
                    "t": round(started, 3), "end": round(time.time(), 3), "role": self.role,
                    "user": self.actor["id"], "kind": kind, "method": method, "path": path,
                    "status": status, "attempt": attempt, "key": key,
                    "retry_after": response.headers.get("Retry-After"),
                    "replayed": response.headers.get("Idempotent-Replayed") == "true",
                    "id": parsed.get("id") if isinstance(parsed, dict) else None,
                    "code": parsed.get("code") if isinstance(parsed, dict) else None,
                    **facts,
                }  # fmt: skip
                retry_after = response.headers.get("Retry-After")
            LOG.write(json.dumps(record) + "\n")
            if not (write and status in RETRIABLE and attempt < MAX_TRIES):
                return status, parsed
            try:
                pause = float(retry_after) if retry_after else 1.0
            except ValueError:
                pause = 1.0
            # Told to come back in 10 s; a field app would. Shorter here, bounded.
            time.sleep(min(pause, 3.0) * self.rnd.uniform(0.5, 1.0))
        return status, parsed

    def get(self, kind, path):
        status, body = self.call(kind, "GET", path)
        return body if status == 200 else None

    def results(self, kind, path):
        body = self.get(kind, path)
        return body.get("results", []) if isinstance(body, dict) else []


class ApplicantUser(Actor):
    role = "applicant"
    weight = 10

    def on_start(self):
        super().on_start()
        self.programmes = [p["id"] for p in self.results("programmes", "programmes/") if p.get("call_open")]
        self.drafts = []
        self.with_plan = set()

    def refresh(self):
        mine = self.results("applications: own", "applications/?state=draft")
        self.drafts = [a["id"] for a in mine]
        return self.drafts

    @task(4)
    def read_applications(self):
        self.refresh()

    @task(2)
    def create_draft(self):
        if not self.programmes or len(self.drafts) > 6:
            return
        programme = self.rnd.choice(self.programmes)

        def body(key):
            return {
                "programme": programme, "business_name": f"Soak bakery {key[:10]}", "sector": "food",
                "plan": {"activity": "Bread and pastries", "market": "The village and two schools",
                         "experience": "Five years in a bakery", "expected_monthly_revenue": "1500",
                         "expected_monthly_costs": "900", "jobs_planned": 1},
                "items": [{"description": "Dough mixer", "quantity": 1, "unit_cost": "500.00"}],
            }  # fmt: skip

        status, answer = self.call("create draft", "POST", "applications/", body=body)
        if status == 201 and answer:
            self.drafts.append(answer["id"])

    @task(2)
    def edit_draft(self):
        if not self.drafts:
            return
        app = self.rnd.choice(self.drafts)
        name = f"Soak bakery {uuid.uuid4().hex[:10]}"
        self.call(
            "edit draft", "PATCH", f"applications/{app}/", body={"business_name": name}, app=app, value=name
        )

    @task(2)
    def upload_plan(self):
        if not self.drafts:
            return
        app = self.rnd.choice(self.drafts)
        content = PDF + b"%" + uuid.uuid4().hex.encode() + b"\n"
        status, _answer = self.call(
            "upload document", "POST", f"applications/{app}/documents/", data={"kind": "business_plan"},
            files={"file": ("business-plan.pdf", content, "application/pdf")}, app=app,
        )  # fmt: skip
        if status == 201:
            self.with_plan.add(app)

    @task(1)
    def submit(self):
        ready = [a for a in self.drafts if a in self.with_plan]
        if not ready:
            return
        app = self.rnd.choice(ready)
        status, _ = self.call("submit", "POST", f"applications/{app}/transitions/submit/", body={"comment": ""},
                              app=app, action="submit")  # fmt: skip
        if status in (200, 409):
            self.drafts = [a for a in self.drafts if a != app]


class OfficerUser(Actor):
    role = "field_officer"
    weight = 7

    def on_start(self):
        super().on_start()
        self.rubric = {p["id"]: [c["criterion"] for c in p.get("rubric", [])]
                       for p in self.results("programmes", "programmes/")}  # fmt: skip
        self.enrolled = []  # (cohort, application, past session ids)

    @task(6)
    def inbox(self):
        self.results("inbox", "applications/?state=submitted")

    @task(3)
    def open_application(self):
        apps = self.results(
            "inbox", f"applications/?state={self.rnd.choice(['submitted', 'business_training'])}"
        )
        if apps:
            app = self.rnd.choice(apps)["id"]
            self.get("application", f"applications/{app}/")
            self.get("history", f"applications/{app}/history/")

    @task(2)
    def admit_to_training(self):
        apps = self.results("inbox", "applications/?state=submitted")
        if not apps:
            return
        app = self.rnd.choice(apps)
        cohorts = [
            c for c in self.results("cohorts", "cohorts/")
            if c["programme"] == app["programme"] and c["centre"] == app["centre"]
        ]  # fmt: skip
        if not cohorts:
            return
        cohort = self.rnd.choice(cohorts)
        status, answer = self.call("enrol", "POST", f"cohorts/{cohort['id']}/enrollments/",
                                   body={"application": app["id"]}, app=app["id"])  # fmt: skip
        if status == 201:
            past = [s["id"] for s in cohort["sessions"] if s["date"] <= TODAY.isoformat()]
            self.enrolled.append((cohort["id"], app["id"], past))
            self.call("admit to training", "POST", f"applications/{app['id']}/transitions/admit_to_training/",
                      body={"comment": ""}, app=app["id"], action="admit_to_training")  # fmt: skip

    @task(2)
    def attendance(self):
        candidates = [e for e in self.enrolled if e[2]]
        if not candidates:
            return
        cohort, app, past = self.rnd.choice(candidates)
        session = self.rnd.choice(past)
        present = self.rnd.random() < 0.85
        self.call("attendance", "POST", f"cohorts/{cohort}/attendance/",
                  body={"session": session, "application": app, "present": present},
                  app=app, session=session, value=present)  # fmt: skip

    @task(2)
    def assess(self):
        apps = self.results("inbox", "applications/?state=business_training")
        if not apps:
            return
        app = self.rnd.choice(apps)
        criteria = self.rubric.get(app["programme"]) or []
        scores = {c: self.rnd.randint(2, 5) for c in criteria}
        self.call("assessment", "POST", f"applications/{app['id']}/assessment/",
                  body={"scores": scores, "recommendation": "approve", "comment": "Soak assessment."},
                  app=app["id"])  # fmt: skip

    @task(1)
    def visit(self):
        due = self.results("visits due", "visits/due/?within_days=30")
        due = [v for v in due if v["window_opens"] <= TODAY.isoformat()]
        if not due:
            return
        visit = self.rnd.choice(due)

        def body(key):
            return {"visited_on": TODAY.isoformat(), "operating": True, "equipment_in_use": True,
                    "monthly_revenue": "1200.00", "jobs": 1, "notes": f"soak {key}"}  # fmt: skip

        self.call("record visit", "POST", f"visits/{visit['id']}/record/", body=body, visit=visit["id"])


class ManagerUser(Actor):
    role = "programme_manager"
    weight = 2

    @task(3)
    def queue(self):
        self.results("approvals queue", "approvals/")

    @task(2)
    def approve(self):
        ready = [a for a in self.results("approvals queue", "approvals/") if a.get("passes")]
        if not ready:
            return
        # The first few of the queue: two managers of a country often pick the same one.
        app = self.rnd.choice(ready[:4])
        self.call("approve", "POST", f"applications/{app['id']}/transitions/approve/",
                  body={"comment": "Committee approved."}, app=app["id"], action="approve")  # fmt: skip

    @task(1)
    def budget(self):
        self.get("budget report", "reports/budget/")


class FinanceUser(Actor):
    role = "finance_officer"
    weight = 2

    @task(2)
    def budget(self):
        self.get("budget report", "reports/budget/")

    @task(1)
    def export(self):
        self.call("budget export", "GET", "reports/budget/export.csv")

    @task(2)
    def deliver(self):
        apps = self.results("approved grants", "applications/?state=approved")
        if not apps:
            return
        app = self.get("application", f"applications/{self.rnd.choice(apps)['id']}/")
        if not app or not app.get("items"):
            return
        item = self.rnd.choice(app["items"])

        def body(key):
            return {
                "delivered_on": TODAY.isoformat(), "supplier": "Soak Supplies", "invoice_number": f"S-{key[:12]}",
                "lines": [{"item": item["id"], "quantity": item["approved_quantity"] or item["quantity"],
                           "actual_unit_cost": item["approved_unit_cost"] or item["unit_cost"]}],
            }  # fmt: skip

        self.call(
            "record delivery", "POST", f"applications/{app['id']}/deliveries/", body=body, app=app["id"]
        )


class AuditorUser(Actor):
    role = "auditor"
    weight = 1

    @task(2)
    def impact(self):
        self.get("impact report", "reports/impact/")

    @task(2)
    def budget(self):
        self.get("budget report", "reports/budget/")

    @task(1)
    def export(self):
        self.call("budget export", "GET", "reports/budget/export.csv")

    @task(1)
    def impact_export(self):
        self.call("impact export", "GET", "reports/impact/export.csv")
