"""Erasure that erases: after `erase_applicant` nothing in the database holds the
person's name, phone, or the free texts they or staff wrote about them (their own
withdrawal, comments, closing reasons, assessment reasons and notes, visit notes, the
reminders that named them), and the audit trail still proves itself.

The person is seeded through the services, as the product would. Two readings of the
database: every text column of every table (any backend), and on PostgreSQL the bytes
of a `pg_dump` of the whole database, the way a backup would hold them."""

import datetime
import io
import os
import subprocess
from decimal import Decimal

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from applicants import roles, service_accounts
from applicants.services import decide_duplicate, register_applicant
from assessments.reminders import send_visit_reminders
from assessments.services import create_cohort, enrol, record_assessment, record_attendance, record_visit
from audit.trail import verify_chain
from grants import documents, services
from grants.models import AuditEvent, Notification
from integrations.intake import receive_submission
from privacy import subjects

from .factories import (
    PDF_BYTES,
    ApplicantFactory,
    DuplicateFlagFactory,
    ExchangeRateFactory,
    UserFactory,
    api_key,
    discontinue,
    make_full_delivery,
)

NAME, SURNAME = "Dragana", "Kelmendić"
PHONE = "+381641234567"
FREE_TEXTS = {
    "withdrawal": f"I, {NAME} {SURNAME} ({PHONE}), withdraw: I found a job at the bakery.",
    "return": f"{NAME}, add the supplier quote from your cousin.",
    "assessment reasons": "Served her sentence for theft; a plan worth a try.",
    "assessment notes": "Site visit: her brother's garage in Mali Mokri Lug.",
    "approval": f"Committee approved {NAME}'s tailoring plan.",
    "cancel": "Moved to Germany with her children.",
    "visit notes": "Shop shut; she said she is drinking again.",
    "discontinue": "Closed the shop after relapse.",
    "duplicate": "Jelena uses her cousin Dragana's old SIM card.",
    "form": "Her shop moved behind the Ruma green market.",
}
# What must be gone: the name, the phone's digits (whatever the formatting), the e-mail,
# the national ID, the address, and a distinctive piece of each free text.
NEEDLES = [
    NAME,
    "Kelmendi",
    "641234567",
    "dragana.k@example.test",
    "1201990715006",
    "Heroja Pinkija",
    "found a job at the bakery",
    "supplier quote from your cousin",
    "Served her sentence",
    "brother's garage",
    "tailoring plan",
    "Moved to Germany",
    "drinking again",
    "after relapse",
    "old SIM card",
    "Ruma green market",
    # The referral written as "other" (a list entry is the list's, not hers).
    "Ruma outreach desk",
]


def seed(world):
    """Dragana registers herself, applies three times and everything that can be written
    about her is written, through the services."""
    user = UserFactory(
        with_role=roles.APPLICANT, username="dragana.kelmendic", email="dragana.k@example.test"
    )
    person = register_applicant(
        by=user,
        user=user,
        first_name=NAME,
        last_name=SURNAME,
        date_of_birth=datetime.date(1990, 1, 12),
        centre=world.centre,
        target_groups=["former_inmate"],
        phone=PHONE,
        national_id="1201990715006",
        email="dragana.k@example.test",
        address="Heroja Pinkija 7",
        consent_given=True,
        special_consents=["prison"],
        sensitive={"referral": "other", "referral_other": "Ruma outreach desk"},
    )

    def apply(name):
        return services.create_application(
            by=user,
            applicant=person,
            programme=world.programme,
            business_name=f"{name} {NAME} {SURNAME}",
            sector="crafts",
            plan={
                "activity": f"{NAME}'s sewing",
                "market": "Neighbours",
                "experience": "Prison workshop",
                "expected_monthly_revenue": "800.00",
                "expected_monthly_costs": "300.00",
            },
            items=[{"description": "Sewing machine", "quantity": 1, "unit_cost": "600.00"}],
        )

    withdrawn = apply("Bakery")
    documents.upload_document(
        application=withdrawn,
        by=user,
        kind="business_plan",
        uploaded_file=SimpleUploadedFile(f"{NAME}_{SURNAME}_plan.pdf", PDF_BYTES, "application/pdf"),
    )
    services.take_transition(application=withdrawn, name="submit", by=user)
    services.take_transition(
        application=withdrawn, name="withdraw", by=user, comment=FREE_TEXTS["withdrawal"]
    )

    cancelled = apply("Tailoring")
    services.take_transition(application=cancelled, name="submit", by=user)
    services.take_transition(
        application=cancelled, name="return_for_changes", by=world.officer, comment=FREE_TEXTS["return"]
    )
    cancelled = services.take_transition(application=cancelled, name="submit", by=user)
    today = datetime.date.today()
    cohort = create_cohort(
        by=world.officer,
        programme=world.programme,
        centre=world.centre,
        title="Start your business",
        session_dates=[today - datetime.timedelta(days=7 * n) for n in range(1, 6)],
    )
    enrol(by=world.officer, cohort=cohort, application=cancelled)
    cancelled = services.take_transition(application=cancelled, name="admit_to_training", by=world.officer)
    for session in cohort.sessions.all():
        record_attendance(by=world.officer, session=session, application=cancelled, present=True)
    record_assessment(
        by=world.officer,
        application=cancelled,
        scores={"viability": 4, "skills": 4, "market": 4, "need": 4, "commitment": 4},
        recommendation="approve",
        reasons=FREE_TEXTS["assessment reasons"],
        notes=FREE_TEXTS["assessment notes"],
    )
    services.take_transition(
        application=cancelled, name="approve", by=world.manager, comment=FREE_TEXTS["approval"]
    )
    services.take_transition(
        application=cancelled, name="cancel", by=world.manager, comment=FREE_TEXTS["cancel"]
    )

    followed = world.application(applicant=person, approved=True, business_name=f"Repairs {SURNAME}")
    ExchangeRateFactory(
        currency=world.programme.currency, date=datetime.date.today(), units_per_eur=Decimal("1")
    )
    make_full_delivery(followed, delivered_on=datetime.date.today() - datetime.timedelta(days=200))
    services.take_transition(application=followed, name="record_delivery", by=world.officer)
    # Started from a field app with an Idempotency-Key: the answer, which names her
    # business, is kept for a retry.
    officer = APIClient()
    officer.credentials(HTTP_AUTHORIZATION=f"Token {api_key(world.officer)}")
    started = officer.post(
        f"/api/v1/applications/{followed.pk}/transitions/start_follow_up/",
        {},
        format="json",
        HTTP_IDEMPOTENCY_KEY="field-app-7f3a",
    )
    assert started.status_code == 200, started.content
    first, *_later = followed.visits.order_by("months")
    # The 6-month visit's form, sent from KoboToolbox too early: kept refused, as posted.
    kobo, _key = service_accounts.create_service_account(
        by=world.manager, name="KoboToolbox", role=roles.FIELD_OFFICER, centres=[world.centre], days=30
    )
    receive_submission(
        by=kobo.user,
        payload={
            "meta/instanceID": "uuid:5f1c0d3e-kobo",
            "application_id": str(followed.pk),
            "visit_months": "6",
            "visited_on": datetime.date.today().isoformat(),
            "notes": FREE_TEXTS["form"],
        },
    )
    record_visit(
        by=world.officer,
        visit=first,
        visited_on=datetime.date.today(),
        operating=False,
        equipment_in_use=False,
        notes=FREE_TEXTS["visit notes"],
    )
    send_visit_reminders(today=datetime.date.today() + datetime.timedelta(days=800))
    Notification.objects.filter(email=person.email).update(
        last_error="550 dragana.k@example.test: no such user"
    )
    discontinue(followed, world.officer, FREE_TEXTS["discontinue"])
    # Someone else flagged as possibly her (once shared a phone, since changed); the
    # officer decides it is not her, on the other person's record.
    cousin = ApplicantFactory(centre=world.centre, first_name="Jelena", last_name="Marić")
    decide_duplicate(
        flag=DuplicateFlagFactory(applicant=cousin, other=person),
        decision="different_person",
        by=world.officer,
        comment=FREE_TEXTS["duplicate"],
    )
    # Sign-in records of what she typed: her username in another case, her e-mail.
    for model, typed in ((AccessLog, "Dragana.Kelmendic"), (AccessFailureLog, "dragana.k@example.test")):
        model.objects.create(
            username=typed,
            ip_address="10.0.0.7",
            user_agent="phone",
            http_accept="*/*",
            path_info="/accounts/login/",
        )
    LogEntry.objects.log_actions(world.manager.pk, [person], CHANGE, change_message="[]", single_object=True)
    return person


def texts_in_tables():
    """Every row of every table, as text."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            found += [(table, " | ".join(map(as_text, row))) for row in cursor.fetchall()]
    return found


def as_text(value):
    """A column as text; bytes (a stored answer) as what they spell."""
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def leftovers(rows):
    return sorted(
        {(table, needle) for table, text in rows for needle in NEEDLES if needle.lower() in text.lower()}
    )


def erase(person, world):
    subjects.erase_applicant(
        applicant=person,
        by=world.manager,
        reason=f"{NAME} {SURNAME} asked by phone ({PHONE}) to be forgotten.",
    )


@pytest.mark.django_db
def test_after_erasure_no_table_holds_the_person_or_what_was_written_about_them(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        person = seed(world)
    # Her e-mails were queued after each commit; a failed one quotes her address.
    assert Notification.objects.filter(recipient=person.user).update(
        last_error="550 dragana.k@example.test: no such user"
    )
    before = leftovers(texts_in_tables())
    # The seed reached every place the test looks: each needle was somewhere.
    assert {needle for _table, needle in before} == set(NEEDLES)
    places = {
        "grants_audittext",
        "grants_notification",
        "django_admin_log",
        "axes_accesslog",
        "axes_accessfailurelog",
    }
    assert places <= {t for t, _n in before}

    with django_capture_on_commit_callbacks(execute=True):
        erase(person, world)

    assert leftovers(texts_in_tables()) == []
    count, _head, problems = verify_chain()
    assert problems == [] and count > 20


@pytest.mark.django_db
def test_after_erasure_history_and_trail_say_erased_where_texts_were(world, api):
    person = seed(world)
    withdrawn = person.applications.get(state="withdrawn")
    erase(person, world)
    history = api(world.manager).get(f"/api/v1/applications/{withdrawn.pk}/history/").json()
    rows = history["results"] if isinstance(history, dict) else history
    withdrawal = next(row for row in rows if row["action"] == "withdraw")
    assert (withdrawal["comment"], withdrawal["actor"]) == ("(erased)", f"erased-{person.user_id}")
    erasure = AuditEvent.objects.select_related("free_text").get(action="applicant_pseudonymised")
    assert erasure.comment == "(erased) (erased) asked by phone ((erased)) to be forgotten."
    assert subjects.applicant_data(person)["history"][-1]["comment"] == erasure.comment


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_after_erasure_holds_nothing_of_the_person(world):
    person = seed(world)
    assert leftovers([("dump", pg_dump())]), "the dump should hold the person before erasure"
    erase(person, world)
    dump = pg_dump()
    assert [needle for _dump, needle in leftovers([("dump", dump)])] == []
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit trail intact" in out.getvalue()


def pg_dump():
    settings = connection.settings_dict
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    command = [
        "pg_dump",
        "--data-only",
        "--host",
        settings.get("HOST") or "127.0.0.1",
        "--port",
        str(settings.get("PORT") or 5432),
        "--username",
        settings.get("USER") or "postgres",
        settings["NAME"],
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=120).stdout
