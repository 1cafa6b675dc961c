"""Each application's plan (state, dated milestones, items) and its rows."""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.models import Permission

from assessments.models import (
    RubricCriterion,
)
from core.dates import add_months
from grants.models import (
    Call,
    EquipmentItem,
    GrantApplication,
    GrantApplicationUserObjectPermission,
    Programme,
)
from grants.workflow import State

from .data import BUSINESS, CATALOGUE, CENT, COMMITTED_STATES, RATES, RUBRIC, STATE_MIX
from .plan import App, days


class Applications:
    """Planning and writing the applications (a part of bench.generate.Generator)."""

    def plan_applications(self):
        rnd = self.rnd
        total = self.size.applications
        states = [s for s, share in STATE_MIX for _ in range(share)]
        # A person's second application in their programme cannot hold a grant or be
        # ready for one (one grant per person and household, grants.households): it is
        # a draft, waiting, or ended without a grant.
        again = [s for s in states if s in (State.DRAFT, State.SUBMITTED, State.REJECTED, State.WITHDRAWN)]
        sectors = list(CATALOGUE)
        apps = []
        n_app = len(self.applicant_rows)
        for k in range(total):
            owner = k if k < n_app else rnd.randrange(n_app)
            state = rnd.choice(states if k < n_app else again)
            apps.append(App(applicant=owner, state=state, sector=rnd.choice(sectors), created=self.now))
        # The bench applicant has three applications at different stages.
        extra = [a for a in apps[n_app : n_app + 2]] if len(apps) > n_app + 2 else []
        apps[0].state = State.COMPLETED
        for app, state in zip(extra, [State.DRAFT, State.SUBMITTED], strict=False):
            app.applicant, app.state = 0, state
        for app in apps:
            self.plan_one(app)
        apps.sort(key=lambda a: a.created)
        first = self.writer.next_id(GrantApplication)
        for i, app in enumerate(apps):
            app.id = first + i
        self.apps = apps

    def plan_one(self, app):
        """Dates of the milestones of `app`, consistent with its state and with today."""
        rnd = self.rnd
        person = self.applicant_rows[app.applicant]
        programme = self.programme_for(person)
        app.programme = programme
        app.centre = person["centre"]
        currency = programme["currency"]
        # Equipment (in the programme's currency), within the ceiling.
        count = rnd.choices([1, 2, 3, 4, 5], weights=[5, 20, 30, 25, 20])[0]
        total = Decimal("0")
        for _ in range(count):
            description, base = rnd.choice(CATALOGUE[app.sector])
            quantity = 1 if base > 500 else rnd.randint(1, 3)
            unit = (Decimal(base) * Decimal(str(rnd.uniform(0.8, 1.2))) * RATES[currency]).quantize(CENT)
            if total + unit * quantity > programme["ceiling"]:
                continue
            total += unit * quantity
            app.items.append([len(app.items), description, quantity, unit])
        if not app.items:
            app.items.append([0, "Tool chest", 1, (Decimal(300) * RATES[currency]).quantize(CENT)])
        app.total = sum((q * u for _p, _d, q, u in app.items), Decimal("0")).quantize(CENT)

        state = app.state
        path = _path(state, rnd)
        if state == State.BUSINESS_TRAINING:
            # Ready: the whole course is behind them and the assessment recommends approval;
            # the others are still in the course and not assessed yet.
            app.ready = rnd.random() < 0.5
            if not app.ready:
                path.discard("assessed")
        # Offsets in days from creation to each milestone the state implies.
        m = {"created": 0.0}
        t = 0.0
        if "submitted" in path:
            t += rnd.uniform(1, 20)
            m["submitted"] = t
        if "admitted" in path:
            t += rnd.uniform(3, 25)
            m["admitted"] = t
            m["training_start"] = t + rnd.uniform(0, 10)
            # The course starts within two weeks (cohorts start every other Monday), 5 weeks.
            t = m["training_start"] + 14 + 28
        if "assessed" in path:
            t += rnd.uniform(1, 10)
            m["assessed"] = t
        if "approved" in path:
            t += rnd.uniform(2, 20)
            m["approved"] = t
        if "delivered" in path:
            t += rnd.uniform(10, 60)
            m["delivered"] = t
        if "follow_up" in path:
            m["follow_up"] = t + rnd.uniform(1, 5)
        if state in (State.REJECTED, State.WITHDRAWN, State.CANCELLED):
            t += rnd.uniform(1, 30)
            m["closed"] = t
        # Anchor: how long ago the last milestone (or the delivery) happened.
        anchor_ago = {
            State.DRAFT: (0.2, 180), State.SUBMITTED: (0.2, 60), State.APPROVED: (0.2, 60),
            State.EQUIPMENT_DELIVERED: (0.2, 10), State.FOLLOW_UP: (6, 360), State.COMPLETED: (390, 1000),
            State.DISCONTINUED: (200, 900), State.REJECTED: (1, 900), State.WITHDRAWN: (1, 900),
            State.CANCELLED: (1, 900),
        }  # fmt: skip
        if state == State.BUSINESS_TRAINING:
            low, high = (75, 160) if app.ready else (0.2, 40)
            last = m["admitted"]
        elif "follow_up" in path:
            low, high = anchor_ago[state]
            last = m["delivered"]
        else:
            low, high = anchor_ago[state]
            last = t
        created = self.now - days(rnd.uniform(low, high) + last)
        earliest = self.now - days(1100)
        if created < earliest:
            created = earliest + days(rnd.uniform(0, 30))
        app.created = created
        app.m = {k: created + days(v) for k, v in m.items()}
        app.path = path
        # Past only: a milestone that would be in the future is moved to just before now.
        for key, value in app.m.items():
            if value > self.now - datetime.timedelta(minutes=5):
                app.m[key] = self.now - datetime.timedelta(minutes=rnd.uniform(5, 600))
        app.closed = app.m.get("closed")
        if "follow_up" in path:
            self.plan_visits(app)

    def plan_visits(self, app):
        """Visits at 3, 6 and 12 months after the delivery: (months, due, visited, operating).
        Completed grants had all three; discontinued ones closed after a visit found the
        business shut; the others are visited as their visits fall due."""
        rnd = self.rnd
        delivered = app.m["delivered"].date()
        stop_after = rnd.choice([3, 6]) if app.state == State.DISCONTINUED else None
        last = None
        for months in (3, 6, 12):
            due = add_months(delivered, months)
            visited = None
            if app.state == State.COMPLETED or (stop_after and months <= stop_after):
                visited = min(due + days(rnd.randint(-5, 10)), self.today - days(1))
            elif app.state == State.FOLLOW_UP and due <= self.today - days(15) and months < 12:
                visited = due + days(rnd.randint(-5, 10))
            operating = not (stop_after and months == stop_after)
            app.visits.append((months, due, visited, operating))
            if visited is not None:
                last = visited
        if app.state in (State.COMPLETED, State.DISCONTINUED):
            after = datetime.datetime.combine(last, datetime.time(15), datetime.UTC)
            app.closed = min(after + days(rnd.uniform(0.1, 5)), self.now - days(0.01))

    def programme_for(self, person):
        options = [p for p in self.programmes if p["country"] == person["country"]]
        if len(options) > 1:
            if person["inmate"]:
                options = [p for p in options if "former_inmate" in p["groups"]]
            elif person["returnee"]:
                options = [p for p in options if "returnee" in p["groups"]]
        return options[0]

    # ---- writing -------------------------------------------------------------------

    def write_programmes(self, committed, reserve):
        rows, rubric, calls = [], [], []
        rubric_id = self.writer.next_id(RubricCriterion)
        call_id = self.writer.next_id(Call)
        self.rubric_ids = {}
        for p in self.programmes:
            # Budget: what is committed, the grants ready for approval, and a margin.
            budget = ((committed[p["id"]] + reserve[p["id"]]) * Decimal("1.15")).quantize(Decimal("1000"))
            budget = max(budget, p["ceiling"] * 10)
            p["budget"] = budget
            opens = self.today - days(1200)
            rows.append((p["id"], p["name"], p["donor"], self.countries[p["country"]], p["currency"], budget,
                         p["ceiling"], p["groups"], Decimal("0.80"), Decimal("3.00"), [3, 6, 12]))  # fmt: skip
            # One call over the whole period, with the whole budget.
            calls.append((call_id, p["id"], p["name"], opens, self.today + days(365), budget))
            p["call"] = call_id
            call_id += 1
            for position, (code, label, weight) in enumerate(RUBRIC):
                rubric.append((rubric_id, p["id"], code, label, weight, position))
                self.rubric_ids[(p["id"], code)] = rubric_id
                rubric_id += 1
        self.writer.write(
            Programme,
            ["id", "name", "donor", "country", "currency", "budget", "ceiling", "target_groups",
             "training_threshold", "pass_mark", "visit_months"],
            rows, label="programmes",
        )  # fmt: skip
        self.writer.write(
            Call, ["id", "programme", "name", "opens", "closes", "budget"], calls, label="calls"
        )
        self.writer.write(RubricCriterion, ["id", "programme", "criterion", "label", "weight", "position"], rubric,
                          label="rubric")  # fmt: skip

    def write_applications(self):
        committed, reserve = defaultdict(Decimal), defaultdict(Decimal)
        for app in self.apps:
            if app.state in COMMITTED_STATES:
                committed[app.programme["id"]] += app.total
            if app.ready:
                reserve[app.programme["id"]] += app.total
        self.write_programmes(committed, reserve)
        rnd = self.rnd
        people = self.applicant_rows
        # Who did what: the centre's officer, a manager who approved, who delivered.
        for app in self.apps:
            person = people[app.applicant]
            app.officer = rnd.choice(self.officers[app.centre])
            app.manager = rnd.choice(self.managers[app.centre])
            finance = self.finance.get(app.centre) or []
            app.deliverer = rnd.choice(finance) if finance and rnd.random() < 0.5 else app.officer
            app.self_service = person["account"] and rnd.random() < 0.5
            person["officer"] = person["officer"] or app.officer
            registered = app.created - days(rnd.uniform(0.01, 20))
            if person["created"] is None or registered < person["created"]:
                person["created"] = registered
        self.assign_applicant_users()
        self.write_applicants()
        closing_reasons = {
            State.REJECTED: "The plan does not show a market for the product.",
            State.CANCELLED: "The beneficiary moved abroad before the purchase.",
            State.DISCONTINUED: "The business closed.",
        }
        owner_perms = []

        def rows():
            for app in self.apps:
                person = people[app.applicant]
                m = app.m
                approved = app.state in COMMITTED_STATES or app.state == State.CANCELLED
                updated = max(v for v in [*m.values(), app.closed] if v is not None)
                revenue = Decimal(rnd.randrange(300, 2500)) * RATES[app.programme["currency"]]
                if person["user"]:
                    owner_perms.append((person["user"], app.id))
                yield (
                    app.id, person["id"], False, app.programme["id"], app.programme["call"], app.centre,
                    f"{BUSINESS[app.sector]} {person['last']}", app.sector,
                    f"{BUSINESS[app.sector]} serving the town and nearby villages.",
                    "Neighbours, the weekly market and two local shops.",
                    f"{rnd.randint(1, 15)} years of work in the trade.",
                    revenue.quantize(CENT), (revenue * Decimal("0.4")).quantize(CENT), rnd.randint(1, 3),
                    app.total, app.total if approved else None, app.officer, app.state, app.created, updated,
                    person["user"] if app.self_service else app.officer, m.get("submitted"),
                    m["approved"] if approved else None, app.manager if approved else None,
                    m.get("delivered"), app.closed, closing_reasons.get(app.state, ""),
                )  # fmt: skip

        self.writer.write(
            GrantApplication,
            ["id", "applicant", "is_cooperative", "programme", "call", "centre", "business_name", "sector", "activity",
             "market", "experience", "expected_monthly_revenue", "expected_monthly_costs", "jobs_planned",
             "requested_total", "approved_amount", "assigned_officer", "state", "created_at", "updated_at",
             "created_by", "submitted_at", "approved_at", "approved_by", "delivered_at", "closed_at",
             "closing_reason"],
            rows(), label="applications",
        )  # fmt: skip
        item_id = self.writer.next_id(EquipmentItem)
        item_rows = []
        for app in self.apps:
            for item in app.items:
                item.append(item_id)
                item_rows.append((item_id, app.id, item[0], item[1], item[2], item[3]))
                item_id += 1
        self.writer.write(EquipmentItem, ["id", "application", "position", "description", "quantity", "unit_cost"],
                          item_rows, label="equipment items")  # fmt: skip
        view = Permission.objects.get(codename="view_grantapplication", content_type__app_label="grants")
        change = Permission.objects.get(codename="change_grantapplication", content_type__app_label="grants")
        pid = self.writer.next_id(GrantApplicationUserObjectPermission)
        perm_rows = []
        for user, app_id in owner_perms:
            for perm in (view.pk, change.pk):
                perm_rows.append((pid, user, perm, app_id))
                pid += 1
        self.writer.write(GrantApplicationUserObjectPermission, ["id", "user", "permission", "content_object"],
                          perm_rows, label="application permissions")  # fmt: skip
        self.app_events()

    def app_events(self):
        """The workflow events each application's history implies (before training)."""
        rnd = self.rnd
        for app in self.apps:
            person = self.applicant_rows[app.applicant]
            actor = person["user"] if app.self_service else app.officer
            behalf = None if app.self_service else person["id"]
            m = app.m
            self.event(app.created, "create", actor=actor, application=app.id, applicant=person["id"],
                       on_behalf_of=behalf, target=State.DRAFT)  # fmt: skip
            end = m.get("submitted") or app.closed or self.now
            for _ in range(rnd.choice([0, 1, 1, 2, 3])):
                at = app.created + (end - app.created) * rnd.uniform(0.05, 0.95)
                self.event(at, "edit", actor=actor, application=app.id, applicant=person["id"],
                           on_behalf_of=behalf, source=State.DRAFT, target=State.DRAFT)  # fmt: skip
            if "submitted" in m:
                self.event(m["submitted"], "submit", actor=actor, application=app.id, applicant=person["id"],
                           on_behalf_of=behalf, source=State.DRAFT, target=State.SUBMITTED)  # fmt: skip
            if "admitted" in m:
                self.event(m["admitted"], "admit_to_training", actor=app.officer, application=app.id,
                           applicant=person["id"], source=State.SUBMITTED, target=State.BUSINESS_TRAINING)  # fmt: skip
            if "approved" in m:
                self.event(m["approved"], "approve", actor=app.manager, application=app.id, applicant=person["id"],
                           source=State.BUSINESS_TRAINING, target=State.APPROVED)  # fmt: skip
            if app.state in (State.REJECTED, State.WITHDRAWN, State.CANCELLED):
                source = (State.APPROVED if app.state == State.CANCELLED
                          else State.BUSINESS_TRAINING if "admitted" in m
                          else State.SUBMITTED if "submitted" in m else State.DRAFT)  # fmt: skip
                action = {State.REJECTED: "reject", State.WITHDRAWN: "withdraw", State.CANCELLED: "cancel"}[
                    app.state
                ]
                who = app.manager if app.state != State.WITHDRAWN else actor
                self.event(app.closed, action, actor=who, application=app.id, applicant=person["id"],
                           source=source, target=app.state,
                           comment=("" if app.state == State.WITHDRAWN else "See the reason given."))  # fmt: skip


def _path(state, rnd):
    """The milestones an application in `state` went through."""
    if state == State.DRAFT:
        return set()
    if state == State.SUBMITTED:
        return {"submitted"}
    if state == State.BUSINESS_TRAINING:
        return {"submitted", "admitted", "assessed"}
    if state == State.APPROVED or state == State.CANCELLED:
        return {"submitted", "admitted", "assessed", "approved"}
    if state == State.EQUIPMENT_DELIVERED:
        return {"submitted", "admitted", "assessed", "approved", "delivered"}
    if state in (State.FOLLOW_UP, State.COMPLETED, State.DISCONTINUED):
        return {"submitted", "admitted", "assessed", "approved", "delivered", "follow_up"}
    if state == State.REJECTED:
        return {"submitted", "admitted", "assessed"} if rnd.random() < 0.5 else {"submitted"}
    if state == State.WITHDRAWN:
        return rnd.choice([set(), {"submitted"}, {"submitted", "admitted"}])
    raise ValueError(state)
