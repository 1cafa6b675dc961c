"""The benchmark dataset: what several years of a regional programme leave behind.

At scale 1: 100,000 applications over 20 centres and 4 programmes, ~300,000 equipment
items, ~50,000 deliveries, ~100,000 monitoring visits, ~1,000,000 audit events in one
valid hash chain, 500 staff users with their guardian permissions (direct-FK tables),
and the training, assessment and commitment rows each state implies. Every application's
history is consistent with its state, so the workflow's guards hold on the loaded rows
(the throughput run approves applications that are ready, through the real services).

Rows are built as tuples with ids chosen here and loaded in bulk (bench.writer)."""

import datetime
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from applicants import roles
from applicants.models import (
    Applicant,
    ApplicantSensitive,
    ApplicantUserObjectPermission,
    ConsentRecord,
    Country,
    IntegrationCentre,
    IntegrationCentreUserObjectPermission,
    StaffAssignment,
)
from applicants.normalise import name_key
from assessments.models import (
    Assessment,
    AssessmentScore,
    Attendance,
    Enrolment,
    MonitoringVisit,
    RubricCriterion,
    TrainingCohort,
    TrainingSession,
)
from grants.dates import add_months
from grants.models import (
    AuditChainHead,
    AuditEvent,
    Commitment,
    Delivery,
    DeliveryLine,
    Document,
    EquipmentItem,
    ExchangeRate,
    GrantApplication,
    GrantApplicationUserObjectPermission,
    Programme,
)
from grants.workflow import State

from .writer import TableWriter

CENT = Decimal("0.01")
UNUSABLE_PASSWORD = "!bench-no-login"  # noqa: S105 - marks an account without a password
# Users the measurements log in as (bench.measure).
OFFICER = "bench_officer"
MANAGER = "bench_manager"
APPLICANT = "bench_applicant"
ADMIN = "bench_admin"
WORKER_MANAGER = "bench_approver{}"
WORKER_MANAGERS = 8

COUNTRIES = [("RS", "Serbia", 10), ("XK", "Kosovo", 5), ("AL", "Albania", 5)]
TOWNS = {
    "RS": ["Niš", "Beograd", "Novi Sad", "Kragujevac", "Leskovac", "Vranje", "Subotica", "Čačak"],
    "XK": ["Prizren", "Prishtina", "Peja", "Gjakova", "Ferizaj"],
    "AL": ["Tirana", "Shkodra", "Elbasan", "Durrës", "Korça"],
}
PRISONS = ["Sremska Mitrovica", "Požarevac-Zabela"]
# name, donor, country, currency, target groups
PROGRAMMES = [
    ("Start-up grants for returnees — Serbia", "German Development Cooperation", "RS", "RSD",
     ["returnee", "socially_disadvantaged"]),
    ("Work after prison — Serbia", "EU IPA", "RS", "EUR", ["former_inmate", "socially_disadvantaged"]),
    ("Micro enterprises — Kosovo", "Swiss Agency for Development", "XK", "EUR",
     ["returnee", "former_inmate", "socially_disadvantaged"]),
    ("New start — Albania", "Austrian Development Agency", "AL", "ALL",
     ["returnee", "socially_disadvantaged"]),
]  # fmt: skip
RATES = {"EUR": Decimal("1"), "RSD": Decimal("117.20"), "ALL": Decimal("100.50")}
CEILING_EUR = Decimal("3000")
RUBRIC = [
    ("viability", "Viability", Decimal("0.30")),
    ("skills", "Skills and experience", Decimal("0.20")),
    ("market", "Market", Decimal("0.20")),
    ("need", "Need", Decimal("0.15")),
    ("commitment", "Commitment", Decimal("0.15")),
]
CATALOGUE = {
    "agriculture": [("Greenhouse frame and foil", 1200), ("Drip irrigation kit", 350), ("Motor hoe", 650),
                    ("Seedling trays", 80)],
    "livestock": [("Dairy cow", 1400), ("Beehive with colony", 150), ("Milking machine", 700),
                  ("Horse-care equipment", 400)],
    "food": [("Bakery oven", 1450), ("Dough mixer", 900), ("Refrigerated display", 1100),
             ("Coffee machine", 800)],
    "crafts": [("Industrial sewing machine", 620), ("Overlock machine", 480), ("Embroidery machine", 1300),
               ("Leather tools set", 250)],
    "construction": [("Concrete mixer", 700), ("Scaffolding set", 900), ("Power tools set", 450),
                     ("Tile cutter", 300)],
    "services": [("Hairdressing chair", 400), ("Pressure washer", 550), ("Laptop and printer", 800),
                 ("Beauty salon set", 900)],
    "trade": [("Market stall", 350), ("Shop scales", 120), ("Refrigerator", 600), ("Shelving", 250)],
    "transport": [("Cargo tricycle", 900), ("Trailer", 1100), ("Roof rack and straps", 150)],
    "other": [("Laptop", 700), ("Camera kit", 900), ("Tool chest", 300)],
}  # fmt: skip
BUSINESS = {
    "agriculture": "Greenhouse", "livestock": "Farm", "food": "Bakery", "crafts": "Tailoring workshop",
    "construction": "Builders", "services": "Salon", "trade": "Shop", "transport": "Transport",
    "other": "Studio",
}  # fmt: skip
FIRST_NAMES = ["Marko", "Jovana", "Dragan", "Milica", "Arta", "Besnik", "Elira", "Driton", "Sabina",
               "Ramiz", "Fatima", "Senad", "Ana", "Nikola", "Gëzim", "Ardita", "Zoran", "Jelena",
               "Bekim", "Sanije", "Dejan", "Ljiljana", "Ilir", "Vjosa"]  # fmt: skip
LAST_NAMES = ["Petrović", "Jovanović", "Demaj", "Krasniqi", "Berisha", "Nikolić", "Hoxha", "Gashi",
              "Marković", "Đorđević", "Bajrami", "Kelmendi", "Ristić", "Shala", "Stojanović", "Rama",
              "Mustafa", "Ilić", "Osmani", "Pavlović", "Ahmeti", "Stanković", "Durmishi", "Tahiri"]  # fmt: skip
# Share of applications per state (sums to 100).
STATE_MIX = [
    (State.DRAFT, 9), (State.SUBMITTED, 14), (State.BUSINESS_TRAINING, 14), (State.APPROVED, 7),
    (State.EQUIPMENT_DELIVERED, 4), (State.FOLLOW_UP, 17), (State.COMPLETED, 12),
    (State.DISCONTINUED, 4), (State.REJECTED, 10), (State.WITHDRAWN, 6), (State.CANCELLED, 3),
]  # fmt: skip
COMMITTED_STATES = {State.APPROVED, *State.DELIVERED_OR_LATER}


@dataclass
class Scale:
    scale: float = 1.0

    @property
    def applications(self):
        return max(100, round(100_000 * self.scale))

    @property
    def staff(self):
        return max(40, round(500 * self.scale))

    @property
    def audit_events(self):
        return round(1_000_000 * self.scale)


@dataclass
class App:
    """One application's plan: its state and the dated facts of its history."""

    applicant: int
    state: str
    sector: str
    created: datetime.datetime
    ready: bool = False
    items: list = field(default_factory=list)
    documents: list = field(default_factory=list)
    visits: list = field(default_factory=list)
    m: dict = field(default_factory=dict)
    path: set = field(default_factory=set)
    closed: datetime.datetime | None = None
    id: int = 0


def days(value):
    return datetime.timedelta(days=value)


class Generator:
    def __init__(self, *, scale=1.0, seed=7, progress=True):
        self.size = Scale(scale)
        self.rnd = random.Random(seed)
        self.now = timezone.now().astimezone(datetime.UTC).replace(microsecond=0)
        self.today = timezone.localdate()
        self.progress = progress
        self.writer = TableWriter(progress=_bar if progress else None)
        self.events = []  # (at, actor, on_behalf_of, application, applicant, action, from, to, comment, data)
        self.usernames = {}
        self.timings = {}

    # ---- helpers -------------------------------------------------------------------

    def step(self, name):
        self.timings[name] = time.perf_counter()

    def ago(self, low, high):
        return self.now - days(self.rnd.uniform(low, high))

    def event(self, at, action, *, actor=None, application=None, applicant=None, on_behalf_of=None,
              source="", target="", comment="", data=None):  # fmt: skip
        self.events.append((at, actor, on_behalf_of, application, applicant, action, source, target, comment,
                            data or {}))  # fmt: skip

    def users(self, rows):
        """rows: (id, username, is_staff, is_superuser, date_joined)."""
        User = get_user_model()
        for user_id, username, *_rest in rows:
            self.usernames[user_id] = username
        self.writer.write(
            User,
            ["id", "password", "username", "first_name", "last_name", "email", "is_staff", "is_active",
             "is_superuser", "date_joined"],
            ((i, UNUSABLE_PASSWORD, u, "", "", f"{u}@bench.test", staff, True, su, joined)
             for i, u, staff, su, joined in rows),
            label="users",
        )  # fmt: skip

    # ---- the dataset ---------------------------------------------------------------

    def run(self):
        if GrantApplication.objects.exists():
            raise RuntimeError("The bench database already holds applications; generate into an empty one.")
        started = time.perf_counter()
        with transaction.atomic():
            self.writer.skip_foreign_key_triggers()
            self.places()
            self.staff()
            self.applicants()
            self.plan_applications()
            self.write_applications()
            self.training_and_assessments()
            self.money_and_documents()
            self.visits()
            self.audit_chain()
            self.writer.reset_sequences()
            foreign_keys = self.writer.check_foreign_keys()
        self.writer.analyze()
        return {
            "seconds": round(time.perf_counter() - started, 1),
            "scale": self.size.scale,
            "rows": dict(self.writer.rows_written),
            "ready_to_approve": sum(1 for a in self.apps if a.ready),
            "foreign_keys_checked": foreign_keys,
        }

    def places(self):
        w = self.writer
        self.countries = {}
        self.centres = []  # (id, country code, kind)
        for code, name, _n in COUNTRIES:
            country, _ = Country.objects.get_or_create(code=code, defaults={"name": name})
            self.countries[code] = country.pk
        centre_id = w.next_id(IntegrationCentre)
        rows = []
        for code, _name, count in COUNTRIES:
            towns = TOWNS[code]
            for i in range(count):
                prison = code == "RS" and i >= count - len(PRISONS)
                if prison:
                    name = f"{PRISONS[count - 1 - i]} prison social service"
                    kind = IntegrationCentre.Kind.PRISON_SERVICE
                else:
                    name = f"Integration Centre {towns[i % len(towns)]}" + (
                        f" {i // len(towns) + 1}" if i >= len(towns) else ""
                    )
                    kind = IntegrationCentre.Kind.INTEGRATION_CENTRE
                rows.append((centre_id, self.countries[code], name, kind, towns[i % len(towns)]))
                self.centres.append((centre_id, code, kind))
                centre_id += 1
        w.write(IntegrationCentre, ["id", "country", "name", "kind", "municipality"], rows, label="centres")

        self.programmes = []  # dicts
        pid = w.next_id(Programme)
        for name, donor, code, currency, groups in PROGRAMMES:
            self.programmes.append(
                {"id": pid, "name": name, "donor": donor, "country": code, "currency": currency,
                 "groups": groups, "ceiling": (CEILING_EUR * RATES[currency]).quantize(Decimal("1000"))}
            )  # fmt: skip
            pid += 1
        # Budgets are set once the commitments are known (write_programmes).
        self.rates_by_month = {}
        rate_rows = []
        rid = w.next_id(ExchangeRate)
        month = datetime.date(self.today.year - 4, self.today.month, 1)
        while month <= self.today:
            for currency in ("RSD", "ALL"):
                drift = Decimal(str(round(self.rnd.uniform(-0.02, 0.02), 4)))
                rate = (RATES[currency] * (1 + drift)).quantize(Decimal("0.000001"))
                self.rates_by_month[(currency, month.year, month.month)] = rate
                rate_rows.append((rid, currency, month, rate))
                rid += 1
            month = add_months(month, 1)
        w.write(ExchangeRate, ["id", "currency", "date", "units_per_eur"], rate_rows, label="exchange rates")

    def rate(self, currency, on):
        if currency == "EUR":
            return Decimal("1")
        return self.rates_by_month[(currency, on.year, on.month)]

    def staff(self):
        w = self.writer
        User = get_user_model()
        uid = w.next_id(User)
        groups = {
            role: Group.objects.get(permissions__codename=f"role_{role}").pk for role in roles.ALL_ROLES
        }
        self.group_ids = groups
        self.officers = defaultdict(list)  # centre -> field officer ids
        self.managers = defaultdict(list)
        self.finance = defaultdict(list)
        centre_ids = [c[0] for c in self.centres]
        by_country = defaultdict(list)
        for cid, code, _kind in self.centres:
            by_country[code].append(cid)
        rows, memberships, assignments = [], [], []
        joined = self.now - days(1200)
        acting = {roles.FIELD_OFFICER: self.officers, roles.PROGRAMME_MANAGER: self.managers,
                  roles.FINANCE_OFFICER: self.finance}  # fmt: skip

        def add(username, role, centres, *, is_staff=False, superuser=False):
            nonlocal uid
            rows.append((uid, username, is_staff, superuser, joined))
            if role:
                memberships.append((uid, groups[role]))
            for c in centres:
                assignments.append((uid, c))
                if role in acting:
                    acting[role][c].append(uid)
            uid += 1
            return uid - 1

        # The users the measurements act as: an officer and a manager working for 12 of the
        # 20 centres (so that page 1,000 of the inbox exists), approvers for the throughput
        # workers (every centre), a superuser for the admin comparison.
        wide = centre_ids[:12]
        self.bench_officer = add(OFFICER, roles.FIELD_OFFICER, wide, is_staff=True)
        self.bench_manager = add(MANAGER, roles.PROGRAMME_MANAGER, wide, is_staff=True)
        self.bench_approvers = [
            add(WORKER_MANAGER.format(i), roles.PROGRAMME_MANAGER, centre_ids) for i in range(WORKER_MANAGERS)
        ]
        self.bench_admin = add(ADMIN, None, [], is_staff=True, superuser=True)
        total = self.size.staff
        mix = [(roles.FIELD_OFFICER, 0.70), (roles.PROGRAMME_MANAGER, 0.14), (roles.FINANCE_OFFICER, 0.10),
               (roles.AUDITOR, 0.06)]  # fmt: skip
        n = 0
        remaining = total - len(rows)
        for role, share in mix:
            count = max(len(centre_ids) if role == roles.FIELD_OFFICER else 2, round(remaining * share))
            if role == mix[-1][0]:
                count = max(2, total - len(rows))
            for i in range(count):
                if role == roles.FIELD_OFFICER:
                    home = centre_ids[i % len(centre_ids)]
                    centres = [home] + ([self.rnd.choice(centre_ids)] if self.rnd.random() < 0.2 else [])
                else:
                    code = COUNTRIES[i % len(COUNTRIES)][0]
                    centres = by_country[code]
                add(f"{role}{n}", role, sorted(set(centres)))
                n += 1
        self.staff_ids = [r[0] for r in rows]
        self.users(rows)
        Membership = User.groups.through
        mid = w.next_id(Membership)
        self.membership_id = mid
        w.write(Membership, ["id", "user", "group"], ((mid + i, u, g) for i, (u, g) in enumerate(memberships)),
                label="staff groups")  # fmt: skip
        self.membership_id += len(memberships)
        access = Permission.objects.get(codename="access_centre", content_type__app_label="applicants")
        sid = w.next_id(StaffAssignment)
        w.write(
            StaffAssignment,
            ["id", "user", "centre", "assigned_at"],
            ((sid + i, u, c, joined) for i, (u, c) in enumerate(assignments)),
            label="staff assignments",
        )
        gid = w.next_id(IntegrationCentreUserObjectPermission)
        w.write(
            IntegrationCentreUserObjectPermission,
            ["id", "user", "permission", "content_object"],
            ((gid + i, u, access.pk, c) for i, (u, c) in enumerate(assignments)),
            label="centre permissions",
        )
        for u, c in assignments:
            self.event(joined + days(self.rnd.uniform(0, 5)), "staff_assigned", data={"user": u, "centre": c})
        self.next_user_id = uid
        self._otp_devices()

    def _otp_devices(self):
        """Staff who log in during the measurement have a confirmed TOTP device; the
        measuring client marks the session as verified with it."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        for user_id in [self.bench_officer, self.bench_manager, self.bench_admin, *self.bench_approvers]:
            TOTPDevice.objects.create(user_id=user_id, name="bench", confirmed=True)

    def applicants(self):
        n = max(1, round(self.size.applications * 0.9))
        rnd = self.rnd
        first = self.writer.next_id(Applicant)
        self.applicant_rows = []  # mutable lists, created_at filled in later
        self.applicants_by_centre = defaultdict(list)
        self.applicant_user = {}
        for k in range(n):
            centre, code, kind = (
                self.centres[k % len(self.centres)] if k < len(self.centres) else rnd.choice(self.centres)
            )
            prison = kind == IntegrationCentre.Kind.PRISON_SERVICE
            returnee = not prison and rnd.random() < 0.6
            inmate = prison or rnd.random() < 0.05
            disadvantaged = not (returnee or inmate) or rnd.random() < 0.2
            fname, lname = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
            applicant_id = first + k
            self.applicant_rows.append({
                "id": applicant_id, "first": fname, "last": lname, "centre": centre, "country": code,
                "returnee": returnee, "inmate": inmate, "disadvantaged": disadvantaged,
                "dob": datetime.date(rnd.randint(1960, 2004), rnd.randint(1, 12), rnd.randint(1, 28)),
                "account": rnd.random() < 0.2, "created": None, "officer": None,
            })  # fmt: skip
            self.applicants_by_centre[centre].append(applicant_id)
        self.applicant_first = first
        self.applicant_rows[0]["account"] = True  # the bench applicant

    def plan_applications(self):
        rnd = self.rnd
        total = self.size.applications
        states = [s for s, share in STATE_MIX for _ in range(share)]
        sectors = list(CATALOGUE)
        apps = []
        n_app = len(self.applicant_rows)
        for k in range(total):
            owner = k if k < n_app else rnd.randrange(n_app)
            apps.append(
                App(applicant=owner, state=rnd.choice(states), sector=rnd.choice(sectors), created=self.now)
            )
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
        rows, rubric = [], []
        rubric_id = self.writer.next_id(RubricCriterion)
        self.rubric_ids = {}
        for p in self.programmes:
            # Budget: what is committed, the grants ready for approval, and a margin.
            budget = ((committed[p["id"]] + reserve[p["id"]]) * Decimal("1.15")).quantize(Decimal("1000"))
            budget = max(budget, p["ceiling"] * 10)
            p["budget"] = budget
            opens = self.today - days(1200)
            rows.append((p["id"], p["name"], p["donor"], self.countries[p["country"]], p["currency"], budget,
                         p["ceiling"], p["groups"], Decimal("0.80"), Decimal("3.00"), opens,
                         self.today + days(365), [3, 6, 12]))  # fmt: skip
            for position, (code, label, weight) in enumerate(RUBRIC):
                rubric.append((rubric_id, p["id"], code, label, weight, position))
                self.rubric_ids[(p["id"], code)] = rubric_id
                rubric_id += 1
        self.writer.write(
            Programme,
            ["id", "name", "donor", "country", "currency", "budget", "ceiling", "target_groups",
             "training_threshold", "pass_mark", "call_opens", "call_closes", "visit_months"],
            rows, label="programmes",
        )  # fmt: skip
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
                    app.id, person["id"], False, app.programme["id"], app.centre,
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
            ["id", "applicant", "is_cooperative", "programme", "centre", "business_name", "sector", "activity",
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

    def assign_applicant_users(self):
        rows, memberships, perms = [], [], []
        uid = self.next_user_id
        view_applicant = Permission.objects.get(
            codename="view_applicant", content_type__app_label="applicants"
        )
        pid = self.writer.next_id(ApplicantUserObjectPermission)
        for index, person in enumerate(self.applicant_rows):
            if not person["account"]:
                person["user"] = None
                continue
            username = APPLICANT if index == 0 else f"applicant{person['id']}"
            joined = person["created"] or self.now
            rows.append((uid, username, False, False, joined))
            memberships.append((uid, self.group_ids[roles.APPLICANT]))
            perms.append((pid, uid, view_applicant.pk, person["id"]))
            person["user"] = uid
            uid += 1
            pid += 1
        self.users(rows)
        Membership = get_user_model().groups.through
        mid = self.membership_id
        self.writer.write(
            Membership,
            ["id", "user", "group"],
            ((mid + i, u, g) for i, (u, g) in enumerate(memberships)),
            label="applicant groups",
        )
        self.applicant_perm_rows = perms

    def write_applicants(self):
        """Applicants before applications (foreign key); their creation date is known now."""
        rnd = self.rnd
        rows, sensitive, consent = [], [], []
        consent_id = self.writer.next_id(ConsentRecord)
        for person in self.applicant_rows:
            created = person["created"] or self.now - days(rnd.uniform(1, 400))
            person["created"] = created
            phone = f"+3816{person['id']:08d}"
            national_id = f"{rnd.randrange(10**12, 10**13)}" if person["country"] == "RS" else ""
            rows.append((
                person["id"], person.get("user"), person["first"], person["last"], person["dob"], phone,
                national_id, f"applicant{person['id']}@bench.test" if rnd.random() < 0.4 else "",
                TOWNS[person["country"]][0], f"Ulica {rnd.randint(1, 200)}", person["centre"],
                person["returnee"], person["inmate"], person["disadvantaged"], rnd.randint(1, 8),
                rnd.randint(0, 4), "sq" if person["country"] in ("XK", "AL") else "sr-latn",
                name_key(person["first"], person["last"]), created, person["officer"],
            ))  # fmt: skip
            if person["inmate"] or person["returnee"]:
                sensitive.append((
                    person["id"],
                    f"Correctional Institution {PRISONS[0]}" if person["inmate"] else "",
                    datetime.date(created.year, created.month, 1) if person["inmate"] else None,
                    "" if person["inmate"] else rnd.choice(["Germany", "Austria", "Switzerland", "Sweden"]),
                    created.date() - days(rnd.randint(30, 400)) if person["returnee"] else None,
                    "Roma" if rnd.random() < 0.3 else "",
                ))  # fmt: skip
            consent.append((consent_id, person["id"], "I agree to the use of my data as explained.", "1",
                            "sr-latn", created, person["officer"]))  # fmt: skip
            consent_id += 1
            self.event(created, "register_applicant", actor=person["officer"], applicant=person["id"],
                       on_behalf_of=person["id"] if person["officer"] else None,
                       data={"possible_duplicates": [], "sensitive_fields": []})  # fmt: skip
        self.writer.write(
            Applicant,
            ["id", "user", "first_name", "last_name", "date_of_birth", "phone", "national_id", "email",
             "municipality", "address", "centre", "is_returnee", "is_former_inmate", "is_socially_disadvantaged",
             "household_size", "dependants", "language", "name_key", "created_at", "created_by"],
            rows, label="applicants",
        )  # fmt: skip
        self.writer.write(
            ApplicantSensitive,
            ["applicant", "referral_institution", "release_month", "returned_from", "return_date", "ethnicity"],
            sensitive, label="sensitive facts",
        )  # fmt: skip
        self.writer.write(ConsentRecord, ["id", "applicant", "wording", "version", "language", "given_at",
                                          "recorded_by"], consent, label="consents")  # fmt: skip
        self.writer.write(ApplicantUserObjectPermission, ["id", "user", "permission", "content_object"],
                          self.applicant_perm_rows, label="applicant permissions")  # fmt: skip

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
            for months, due, visited, operating in app.visits:
                if visited is None:
                    rows.append((vid, app.id, months, due, None, None, None, None, 0, 0, 0, "", None, None))
                else:
                    revenue = (Decimal(rnd.randrange(200, 3000)) * RATES[app.programme["currency"]]).quantize(
                        CENT
                    )
                    at = datetime.datetime.combine(visited, datetime.time(15), datetime.UTC)
                    rows.append((vid, app.id, months, due, visited, operating, operating, revenue if operating else None,
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
            ["id", "application", "months", "due_on", "visited_on", "operating", "equipment_in_use",
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
        usernames = self.usernames

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
                event = AuditEvent(
                    at=at, actor_id=actor, actor_username=usernames.get(actor, ""), on_behalf_of_id=behalf,
                    application_id=app, applicant_id=applicant, action=action, from_state=source, to_state=target,
                    comment=comment, data=data, prev_hash=state["prev"],
                )  # fmt: skip
                event.hash = event.compute_hash()
                state["prev"] = event.hash
                yield (first + offset, at, actor, event.actor_username, behalf, app, applicant, action, source,
                       target, comment, data, event.prev_hash, event.hash)  # fmt: skip

        self.writer.write(
            AuditEvent,
            ["id", "at", "actor", "actor_username", "on_behalf_of", "application", "applicant", "action",
             "from_state", "to_state", "comment", "data", "prev_hash", "hash"],
            rows(), label="audit events",
        )  # fmt: skip
        AuditChainHead.objects.update_or_create(pk=1, defaults={"last_hash": state["prev"]})
        self.events = []


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


def _bar(desc, unit):
    from tqdm import tqdm

    return tqdm(desc=f"{desc:<24}", unit=f" {unit}", unit_scale=True, leave=True, mininterval=0.5)


def generate(*, scale=1.0, seed=7, progress=True):
    """Load the dataset; returns how long it took and how many rows each table got."""
    return Generator(scale=scale, seed=seed, progress=progress).run()
