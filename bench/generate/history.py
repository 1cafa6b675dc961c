"""What the histories imply: training, assessments, money, documents, visits, and the audit chain."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from assessments.models import (
    Assessment,
    AssessmentScore,
    Attendance,
    Enrolment,
    MonitoringVisit,
    TrainingCohort,
    TrainingSession,
)
from grants.models import (
    AuditChainHead,
    AuditEvent,
    AuditText,
    Commitment,
    Delivery,
    DeliveryLine,
    Document,
)
from grants.workflow import State

from .data import CENT, RATES, RUBRIC
from .plan import days


class History:
    """What each history implies, and the audit chain (a part of bench.generate.Generator)."""

    def training_and_assessments(self):
        rnd = self.rnd
        w = self.writer
        cohorts = {}
        cohort_rows, session_rows, enrol_rows, attend_rows = [], [], [], []
        cohort_id = w.next_id(TrainingCohort)
        session_id = w.next_id(TrainingSession)
        enrol_id = w.next_id(Enrolment)
        attend_id = w.next_id(Attendance)
        for app in self.apps:
            if "admitted" not in app.m:
                continue
            # A course starts every other Monday per centre and programme.
            start = app.m["training_start"].date()
            monday = start + days((7 - start.weekday()) % 7)
            if monday.toordinal() // 7 % 2:
                monday += days(7)
            key = (app.centre, app.programme["id"], monday)
            cohort = cohorts.get(key)
            if cohort is None:
                cohort = (cohort_id, [])
                cohorts[key] = cohort
                cohort_rows.append((cohort_id, app.programme["id"], app.centre,
                                    f"Start and run your business — {monday:%B %Y}", app.m["admitted"]))  # fmt: skip
                for k in range(5):
                    cohort[1].append((session_id, monday + days(7 * k)))
                    session_rows.append((session_id, cohort_id, monday + days(7 * k), Decimal("3.0")))
                    session_id += 1
                cohort_id += 1
            enrol_rows.append((enrol_id, cohort[0], app.id, app.m["admitted"], True))
            self.event(app.m["admitted"] - datetime.timedelta(minutes=30), "enrolled", actor=app.officer,
                       application=app.id, applicant=self.applicant_rows[app.applicant]["id"],
                       source=State.SUBMITTED, target=State.SUBMITTED, data={"cohort": cohort[0], "moved_from": None})  # fmt: skip
            completes = app.state != State.BUSINESS_TRAINING or app.ready
            absent = rnd.sample(range(5), 1) if completes and rnd.random() < 0.3 else (
                [] if completes else rnd.sample(range(5), rnd.randint(2, 3)))  # fmt: skip
            for index, (sid, on) in enumerate(cohort[1]):
                if on > self.today or (app.closed and on > app.closed.date()):
                    continue
                attend_rows.append((attend_id, cohort[0], sid, enrol_id, index not in absent, app.officer,
                                    datetime.datetime.combine(on, datetime.time(16), datetime.UTC)))  # fmt: skip
                attend_id += 1
            enrol_id += 1
        w.write(
            TrainingCohort, ["id", "programme", "centre", "title", "created_at"], cohort_rows, label="cohorts"
        )
        w.write(TrainingSession, ["id", "cohort", "date", "hours"], session_rows, label="sessions")
        w.write(
            Enrolment,
            ["id", "cohort", "application", "enrolled_at", "active"],
            enrol_rows,
            label="enrolments",
        )
        w.write(Attendance, ["id", "cohort", "session", "enrolment", "present", "recorded_by", "recorded_at"],
                attend_rows, label="attendance")  # fmt: skip

        assess_rows, score_rows = [], []
        aid = w.next_id(Assessment)
        score_id = w.next_id(AssessmentScore)
        for app in self.apps:
            if "assessed" not in app.m:
                continue
            recommends = app.state != State.REJECTED
            scores = {code: (rnd.choice([4, 4, 5, 3]) if recommends else rnd.choice([1, 2, 3]))
                      for code, _l, _w in RUBRIC}  # fmt: skip
            if recommends and sum(scores.values()) < 18:
                scores["viability"] = 5
                scores["market"] = 4
            weighted = sum((weight * scores[code] for code, _l, weight in RUBRIC), Decimal("0"))
            weighted = weighted.quantize(CENT, rounding=ROUND_HALF_UP)
            at = app.m["assessed"]
            assess_rows.append((aid, app.id, app.officer, at.date(), "Visited the premises and the tools.",
                                "approve" if recommends else "reject",
                                "The plan is realistic." if recommends else "No market for the product.",
                                weighted, True, True, at))  # fmt: skip
            for code, _l, _w in RUBRIC:
                score_rows.append((score_id, aid, self.rubric_ids[(app.programme["id"], code)], scores[code]))
                score_id += 1
            aid += 1
            self.event(at, "assessed", actor=app.officer, application=app.id,
                       applicant=self.applicant_rows[app.applicant]["id"], source=State.BUSINESS_TRAINING,
                       target=State.BUSINESS_TRAINING, comment="The plan is realistic." if recommends else "",
                       data={"recommendation": "approve" if recommends else "reject", "score": str(weighted)})  # fmt: skip
        w.write(
            Assessment,
            ["id", "application", "assessor", "site_visit_on", "notes", "recommendation", "reasons",
             "weighted_score", "complete", "is_current", "created_at"],
            assess_rows, label="assessments",
        )  # fmt: skip
        w.write(
            AssessmentScore, ["id", "assessment", "criterion", "score"], score_rows, label="assessment scores"
        )

    def money_and_documents(self):
        rnd = self.rnd
        w = self.writer
        commit_rows, delivery_rows, line_rows, doc_rows = [], [], [], []
        cid = w.next_id(Commitment)
        did = w.next_id(Delivery)
        lid = w.next_id(DeliveryLine)
        doc = w.next_id(Document)
        for app in self.apps:
            person_id = self.applicant_rows[app.applicant]["id"]
            m = app.m
            if "submitted" in m and rnd.random() < 0.5:
                at = m["submitted"] - datetime.timedelta(hours=2)
                doc_rows.append((doc, app.id, "business_plan", f"bench/{doc:012x}.pdf", "business-plan.pdf",
                                 48213, "application/pdf", f"{doc:064x}", app.officer, at))  # fmt: skip
                self.event(at, "document_uploaded", actor=app.officer, application=app.id, applicant=person_id,
                           data={"document": doc, "kind": "business_plan", "sha256": f"{doc:064x}"})  # fmt: skip
                app.documents.append((doc, "business_plan", at))
                doc += 1
            if "approved" not in m:
                continue
            released = app.state == State.CANCELLED
            commit_rows.append((cid, app.id, app.programme["id"], app.total,
                                "released" if released else "active", m["approved"], app.manager,
                                app.closed if released else None, app.manager if released else None,
                                "The beneficiary moved abroad before the purchase." if released else ""))  # fmt: skip
            cid += 1
            delivered = "delivered" in app.path
            partial_only = app.state == State.APPROVED and rnd.random() < 0.2
            if not (delivered or partial_only):
                continue
            # One delivery, or two when the items came from two suppliers.
            items = app.items
            split = len(items) >= 2 and (partial_only or rnd.random() < 0.35)
            parts = [items[: len(items) // 2], items[len(items) // 2 :]] if split else [items]
            if partial_only:
                parts = parts[:1]
            end = m["delivered"] if delivered else self.now - days(1)
            start = min(m["approved"] + days(2), end)
            for index, part in enumerate(parts):
                on = (
                    (start + (end - start) * ((index + 1) / len(parts))).date()
                    if len(parts) > 1
                    else end.date()
                )
                on = min(on, self.today)
                at = datetime.datetime.combine(on, datetime.time(11), datetime.UTC)
                invoice = f"INV-{app.id}-{index + 1}"
                delivery_rows.append((did, app.id, on, rnd.choice(["Tehno Alat d.o.o.", "Agro Centar", "Elektro Shpk"]),
                                      invoice, app.deliverer, at))  # fmt: skip
                rate = self.rate(app.programme["currency"], on)
                for _position, _desc, quantity, unit, item_id in part:
                    actual = (unit * Decimal(str(rnd.uniform(0.9, 1.05)))).quantize(CENT)
                    amount = (actual * quantity).quantize(CENT)
                    line_rows.append(
                        (lid, did, item_id, quantity, actual, amount, rate, (amount / rate).quantize(CENT))
                    )
                    lid += 1
                self.event(at, "delivery", actor=app.deliverer, application=app.id, applicant=person_id,
                           source=State.APPROVED, target=State.APPROVED, data={"delivery": did, "invoice": invoice})  # fmt: skip
                did += 1
            if delivered:
                at = m["delivered"]
                doc_rows.append((doc, app.id, "handover_protocol", f"bench/{doc:012x}.pdf", "handover-signed.pdf",
                                 183422, "application/pdf", f"{doc:064x}", app.deliverer, at))  # fmt: skip
                self.event(at, "document_uploaded", actor=app.deliverer, application=app.id, applicant=person_id,
                           data={"document": doc, "kind": "handover_protocol", "sha256": f"{doc:064x}"})  # fmt: skip
                app.documents.append((doc, "handover_protocol", at))
                doc += 1
                self.event(at + datetime.timedelta(seconds=1), "record_delivery", actor=app.deliverer,
                           application=app.id, applicant=person_id, source=State.APPROVED,
                           target=State.EQUIPMENT_DELIVERED)  # fmt: skip
        w.write(
            Commitment,
            ["id", "application", "programme", "amount", "status", "created_at", "created_by", "released_at",
             "released_by", "release_reason"],
            commit_rows, label="commitments",
        )  # fmt: skip
        w.write(Delivery, ["id", "application", "delivered_on", "supplier", "invoice_number", "recorded_by",
                           "created_at"], delivery_rows, label="deliveries")  # fmt: skip
        w.write(DeliveryLine, ["id", "delivery", "item", "quantity", "actual_unit_cost", "amount", "units_per_eur",
                               "amount_eur"], line_rows, label="delivery lines")  # fmt: skip
        w.write(Document, ["id", "application", "kind", "file", "original_name", "size", "content_type", "sha256",
                           "uploaded_by", "created_at"], doc_rows, label="documents")  # fmt: skip

    def visits(self):
        rnd = self.rnd
        rows = []
        vid = self.writer.next_id(MonitoringVisit)
        for app in self.apps:
            if not app.visits:
                continue
            person_id = self.applicant_rows[app.applicant]["id"]
            self.event(app.m["follow_up"], "start_follow_up", actor=app.officer, application=app.id,
                       applicant=person_id, source=State.EQUIPMENT_DELIVERED, target=State.FOLLOW_UP)  # fmt: skip
            # Visits left unmade when the grant ended are no longer owed from that day.
            ended = app.closed.date() if app.state in (State.COMPLETED, State.DISCONTINUED) else None
            for months, due, visited, operating in app.visits:
                if visited is None:
                    rows.append(
                        (vid, app.id, months, due, None, ended, None, None, None, 0, 0, 0, "", None, None)
                    )
                else:
                    revenue = (Decimal(rnd.randrange(200, 3000)) * RATES[app.programme["currency"]]).quantize(
                        CENT
                    )
                    at = datetime.datetime.combine(visited, datetime.time(15), datetime.UTC)
                    rows.append((vid, app.id, months, due, visited, None, operating, operating, revenue if operating else None,
                                 1, rnd.randint(0, 2), rnd.randint(0, 2) if months == 12 else 0,
                                 "Visited the workshop.", app.officer, at))  # fmt: skip
                    self.event(at, "visit_recorded", actor=app.officer, application=app.id, applicant=person_id,
                               source=State.FOLLOW_UP, target=State.FOLLOW_UP,
                               data={"visit": vid, "months": months, "operating": operating})  # fmt: skip
                vid += 1
            if app.state in (State.COMPLETED, State.DISCONTINUED):
                action = "complete" if app.state == State.COMPLETED else "discontinue"
                self.event(app.closed, action, actor=app.officer, application=app.id, applicant=person_id,
                           source=State.FOLLOW_UP, target=app.state,
                           comment="" if action == "complete" else "The business closed.")  # fmt: skip
        self.writer.write(
            MonitoringVisit,
            ["id", "application", "months", "due_on", "visited_on", "closed_on", "operating", "equipment_in_use",
             "monthly_revenue", "jobs_owner", "jobs_family", "jobs_employees", "notes", "recorded_by",
             "recorded_at"],
            rows, label="monitoring visits",
        )  # fmt: skip

    def audit_chain(self):
        """Top the natural history up with document and sensitive-data views to the target
        count, then write every event in time order with its hash chained to the last."""
        rnd = self.rnd
        deficit = self.size.audit_events - len(self.events)
        with_docs = [a for a in self.apps if a.documents]
        people = self.applicant_rows
        for _ in range(max(0, deficit)):
            if with_docs and rnd.random() < 0.7:
                app = rnd.choice(with_docs)
                doc_id, kind, since = rnd.choice(app.documents)
                at = since + (self.now - since) * rnd.random()
                self.event(at, "document_downloaded", actor=app.officer, application=app.id,
                           applicant=people[app.applicant]["id"], data={"document": doc_id, "kind": kind})  # fmt: skip
            else:
                person = rnd.choice(people)
                at = person["created"] + (self.now - person["created"]) * rnd.random()
                viewer = rnd.choice(self.managers[person["centre"]])
                self.event(at, "sensitive_viewed", actor=viewer, applicant=person["id"])
        self.events.sort(key=lambda e: e[0])
        first = self.writer.next_id(AuditEvent)
        head = AuditChainHead.objects.filter(pk=1).first()
        state = {"prev": head.last_hash if head else ""}
        # As audit.trail.record keeps them: staff usernames, no applicant's; free text
        # beside the chain, under its own salt.
        usernames = {pk: name for pk, name in self.usernames.items() if pk in set(self.staff_ids)}
        texts = []

        def rows():
            for offset, (
                at,
                actor,
                behalf,
                app,
                applicant,
                action,
                source,
                target,
                comment,
                data,
            ) in enumerate(self.events):
                digest = ""
                if comment:
                    salt = AuditText.new_salt()
                    digest = AuditText.digest(comment, salt)
                    texts.append((first + offset, comment, salt))
                event = AuditEvent(
                    at=at, actor_id=actor, actor_username=usernames.get(actor, ""), on_behalf_of_id=behalf,
                    application_id=app, applicant_id=applicant, action=action, from_state=source, to_state=target,
                    text_digest=digest, data=data, prev_hash=state["prev"],
                )  # fmt: skip
                event.hash = event.compute_hash()
                state["prev"] = event.hash
                yield (first + offset, at, actor, event.actor_username, behalf, app, applicant, action, source,
                       target, digest, data, event.prev_hash, event.hash)  # fmt: skip

        self.writer.write(
            AuditEvent,
            ["id", "at", "actor", "actor_username", "on_behalf_of", "application", "applicant", "action",
             "from_state", "to_state", "text_digest", "data", "prev_hash", "hash"],
            rows(), label="audit events",
        )  # fmt: skip
        self.writer.write(AuditText, ["event", "text", "salt"], iter(texts), label="audit texts")
        AuditChainHead.objects.update_or_create(pk=1, defaults={"last_hash": state["prev"]})
        self.events = []
