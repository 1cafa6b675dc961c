"""Places, staff with their centre permissions, applicants and their accounts."""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from applicants import roles
from applicants.consent import CONSENT_VERSION, consent_wording
from applicants.models import (
    WG_DOMAINS,
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
from core.dates import add_months
from demo.seed import person_facts
from grants.models import (
    ExchangeRate,
    Programme,
)

from .data import (
    ADMIN,
    APPLICANT,
    CEILING_EUR,
    COUNTRIES,
    FIRST_NAMES,
    LAST_NAMES,
    MANAGER,
    OFFICER,
    PRISONS,
    PROGRAMMES,
    RATES,
    TOWNS,
    UNUSABLE_PASSWORD,
    WORKER_MANAGER,
    WORKER_MANAGERS,
)
from .plan import days


class People:
    """Places, staff and applicants (a part of bench.generate.Generator)."""

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
            sex, born, consent_disability, answers = person_facts(rnd, self.now.date())
            self.applicant_rows.append({
                "id": applicant_id, "first": fname, "last": lname, "centre": centre, "country": code,
                "returnee": returnee, "inmate": inmate, "disadvantaged": disadvantaged,
                "dob": born, "sex": sex, "consent_disability": consent_disability, "answers": answers,
                "account": rnd.random() < 0.2, "created": None, "officer": None,
            })  # fmt: skip
            self.applicants_by_centre[centre].append(applicant_id)
        self.applicant_first = first
        self.applicant_rows[0]["account"] = True  # the bench applicant

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
        wording = consent_wording()
        for person in self.applicant_rows:
            created = person["created"] or self.now - days(rnd.uniform(1, 400))
            person["created"] = created
            phone = f"+3816{person['id']:08d}"
            national_id = f"{rnd.randrange(10**12, 10**13)}" if person["country"] == "RS" else ""
            rows.append((
                person["id"], person.get("user"), person["first"], person["last"], person["dob"], phone,
                national_id, f"applicant{person['id']}@bench.test" if rnd.random() < 0.4 else "",
                TOWNS[person["country"]][0], f"Ulica {rnd.randint(1, 200)} {person['id']}", person["centre"],
                person["returnee"], person["inmate"], person["disadvantaged"], rnd.randint(1, 8),
                rnd.randint(0, 4), "sq" if person["country"] in ("XK", "AL") else "sr-latn",
                name_key(person["first"], person["last"]), created, person["officer"], person["sex"],
                created if person["consent_disability"] else None,
            ))  # fmt: skip
            if person["inmate"] or person["returnee"] or person["answers"]:
                answers = [person["answers"].get(domain) for domain in WG_DOMAINS]
                sensitive.append((
                    person["id"],
                    f"Correctional Institution {PRISONS[0]}" if person["inmate"] else "",
                    "",  # referral_review: nothing written before the list to review
                    datetime.date(created.year, created.month, 1) if person["inmate"] else None,
                    rnd.choice(["Germany", "Austria", "Switzerland", "Sweden"]) if person["returnee"] else "",
                    created.date() - days(rnd.randint(30, 400)) if person["returnee"] else None,
                    "Roma" if rnd.random() < 0.3 else "",
                    *answers,
                ))  # fmt: skip
            # Under today's wording: an older version is asked again at sign-in (a redirect).
            consent.append((consent_id, person["id"], wording, CONSENT_VERSION,
                            "sr-latn", created, person["officer"]))  # fmt: skip
            consent_id += 1
            self.event(created, "register_applicant", actor=person["officer"], applicant=person["id"],
                       on_behalf_of=person["id"] if person["officer"] else None,
                       data={"possible_duplicates": [], "sensitive_fields": []})  # fmt: skip
        self.writer.write(
            Applicant,
            ["id", "user", "first_name", "last_name", "date_of_birth", "phone", "national_id", "email",
             "municipality", "address", "centre", "is_returnee", "is_former_inmate", "is_socially_disadvantaged",
             "household_size", "dependants", "language", "name_key", "created_at", "created_by", "sex",
             "consent_disability_at"],
            rows, label="applicants",
        )  # fmt: skip
        self.writer.write(
            ApplicantSensitive,
            ["applicant", "referral_other", "referral_review", "release_month", "returned_from", "return_date", "ethnicity",
             *WG_DOMAINS],
            sensitive, label="sensitive facts",
        )  # fmt: skip
        self.writer.write(ConsentRecord, ["id", "applicant", "wording", "version", "language", "given_at",
                                          "recorded_by"], consent, label="consents")  # fmt: skip
        self.writer.write(ApplicantUserObjectPermission, ["id", "user", "permission", "content_object"],
                          self.applicant_perm_rows, label="applicant permissions")  # fmt: skip
