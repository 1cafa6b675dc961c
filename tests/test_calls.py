"""Calls as records: the call an application is made in, its window, its revision
deadline, its budget share, and the programme's figures read from its calls."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.errors import RuleNotMet, ServiceError
from grants import services
from grants.models import Call, GrantApplication
from reports import figures as reports

from .factories import ApplicantFactory, CentreFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n):
    return TODAY + datetime.timedelta(days=n)


def take(application, name, by, comment=""):
    return services.take_transition(application=application, name=name, by=by, comment=comment)


def refused(application, name, by):
    with pytest.raises(RuleNotMet) as excinfo:
        take(application, name, by)
    return [code for code, _message in excinfo.value.rules]


def create(world, **kwargs):
    return services.create_application(
        by=world.officer, applicant=world.person, business_name="Bakery", sector="food", **kwargs
    )


class TestTheCallOfAnApplication:
    def test_it_is_the_open_call_that_covers_the_centre(self, world):
        old = world.programme.calls.get()
        old.closes = days(-1)
        old.opens = days(-40)
        old.save()
        elsewhere = Call.objects.create(
            programme=world.programme, name="Other centre", opens=days(-1), closes=days(3), budget=1000
        )
        elsewhere.centres.add(CentreFactory(country=world.serbia))
        here = Call.objects.create(
            programme=world.programme, name="Niš", opens=days(-1), closes=days(30), budget=1000
        )
        here.centres.add(world.centre)
        app = create(world, programme=world.programme)
        assert app.call == here

    def test_a_call_for_every_centre_names_none(self, world):
        assert create(world, programme=world.programme).call == world.programme.calls.get()

    def test_without_an_open_call_nothing_is_created(self, world):
        world.programme.calls.update(opens=days(-40), closes=days(-1))
        with pytest.raises(ServiceError) as refusal:
            create(world, programme=world.programme)
        assert refusal.value.code == "call_closed"
        assert not GrantApplication.objects.exists()

    def test_a_chosen_call_must_be_open_to_the_centre(self, world):
        closed = Call.objects.create(
            programme=world.programme, name="Spring", opens=days(-90), closes=days(-60), budget=0
        )
        with pytest.raises(ServiceError):
            create(world, programme=world.programme, call=closed.pk)
        assert create(
            world, programme=world.programme, call=world.programme.calls.open_on(TODAY).get().pk
        ).call.is_open()

    def test_the_api_takes_an_optional_call_and_shows_it(self, world, api):
        call = world.programme.calls.get()
        response = api(world.applicant).post(
            "/api/v1/applications/",
            {"programme": world.programme.pk, "call": call.pk, "business_name": "B", "sector": "crafts"},
            format="json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["call"] == call.pk


class TestRevisionDeadline:
    def returned(self, world, revision_deadline):
        world.programme.calls.update(opens=days(-40), closes=days(-1), revision_deadline=revision_deadline)
        app = world.application(submitted=True)
        return take(app, "return_for_changes", world.officer, comment="Add the market.")

    def test_a_returned_application_is_sent_again_before_the_revision_deadline(self, world):
        app = self.returned(world, days(5))
        assert app.returned_at is not None
        assert take(app, "submit", world.applicant).state == "submitted"

    def test_it_is_refused_after_the_revision_deadline(self, world):
        app = self.returned(world, days(5))
        world.programme.calls.update(revision_deadline=days(-1))
        app = GrantApplication.objects.get(pk=app.pk)
        assert refused(app, "submit", world.applicant) == ["call_open"]

    def test_a_new_draft_is_not_sent_after_the_close_whatever_the_deadline(self, world):
        world.programme.calls.update(opens=days(-40), closes=days(-1), revision_deadline=days(5))
        assert refused(world.application(), "submit", world.applicant) == ["call_open"]

    def test_the_refusal_names_the_deadline(self, world):
        app = self.returned(world, days(5))
        world.programme.calls.update(revision_deadline=days(-1))
        with pytest.raises(RuleNotMet) as excinfo:
            take(GrantApplication.objects.get(pk=app.pk), "submit", world.applicant)
        assert "again" in str(excinfo.value.rules[0][1])


class TestCallBudgetShare:
    def test_approvals_of_a_call_stop_at_its_share(self, world):
        world.programme.calls.update(budget=Decimal("1500.00"))
        first = world.application(ready=True)
        assert take(first, "approve", world.manager).state == "approved"
        # (another person: a second grant to the same one is refused for that reason)
        second = world.application(ready=True, applicant=ApplicantFactory(centre=world.centre))
        assert refused(second, "approve", world.manager) == ["call_budget_left"]
        assert world.programme.remaining_budget() > second.requested_total

    def test_the_shares_may_not_add_up_to_more_than_the_budget(self, world):
        call = Call(
            programme=world.programme, name="Autumn", opens=days(1), closes=days(9), budget=Decimal("1")
        )
        with pytest.raises(ValidationError) as error:
            call.full_clean()
        assert "budget" in error.value.message_dict

    def test_the_database_refuses_a_deadline_before_the_close(self, world):
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            Call.objects.create(
                programme=world.programme,
                name="X",
                opens=days(0),
                closes=days(9),
                revision_deadline=days(1),
                budget=0,
            )


class TestProgrammeFromItsCalls:
    def test_the_api_keeps_the_call_fields_as_the_calls_envelope(self, world, api):
        Call.objects.create(
            programme=world.programme, name="Late", opens=days(100), closes=days(200), budget=0
        )
        rows = {p["id"]: p for p in api(world.manager).get("/api/v1/programmes/").json()["results"]}
        row = rows[world.programme.pk]
        assert row["call_opens"] == days(-30).isoformat()
        assert row["call_closes"] == days(200).isoformat()
        assert row["call_open"] is True
        assert [c["name"] for c in row["calls"]] == [f"{world.programme.name} call", "Late"]

    def test_a_programme_without_an_open_call_is_closed(self, world):
        programme = ProgrammeFactory(country=world.serbia, call_opens=days(-9), call_closes=days(-1))
        assert programme.call_is_open() is False

    def test_the_budget_report_shows_each_call_in_its_programme(self, world):
        world.programme.calls.update(budget=Decimal("60000.00"))
        Call.objects.create(
            programme=world.programme,
            name="Second",
            opens=days(1),
            closes=days(9),
            budget=Decimal("40000.00"),
        )
        take(world.application(ready=True), "approve", world.manager)
        row = next(
            r for r in reports.budget_report(world.manager)["results"] if r["id"] == world.programme.pk
        )
        assert [(c["budget"], c["committed"]) for c in row["calls"]] == [
            (Decimal("60000.00"), Decimal("1100.00")),
            (Decimal("40000.00"), Decimal("0.00")),
        ]
        assert row["committed"] == Decimal("1100.00")

    def test_finance_reads_a_call_by_number(self, world):
        row = next(
            r for r in reports.budget_report(world.finance)["results"] if r["id"] == world.programme.pk
        )
        assert world.programme.name not in row["calls"][0]["name"]

    def test_the_budget_page_lists_the_calls(self, world, client):
        from .conftest import verified_login

        verified_login(client, world.manager)
        page = client.get(reverse("finance-budget"))
        assert page.status_code == 200
        assert f"{world.programme.name} call" in page.content.decode()


# (unapplying the merged migrations on SQLite fails in Django's table rebuild: see
# tests/test_audit_migration.py; PostgreSQL runs it)
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_one_call_per_programme_with_its_applications():
    """grants 0011: each programme's dates and whole budget become its one call, and its
    applications are made in it."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("grants", "0010_selection_calls")], [("grants", "0011_selection_calls_from_programmes")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    country = old.get_model("applicants", "Country").objects.create(code="RS", name="Serbia")
    centre = old.get_model("applicants", "IntegrationCentre").objects.create(country=country, name="Niš")
    applicant = old.get_model("applicants", "Applicant").objects.create(
        first_name="A",
        last_name="B",
        date_of_birth=datetime.date(1990, 1, 1),
        centre=centre,
        is_returnee=True,
    )
    programme = old.get_model("grants", "Programme").objects.create(
        name="P",
        donor="D",
        country=country,
        currency="EUR",
        budget=Decimal("5000.00"),
        ceiling=Decimal("100"),
        call_opens=days(-5),
        call_closes=days(5),
    )
    application = old.get_model("grants", "GrantApplication").objects.create(
        applicant=applicant, programme=programme, centre=centre, business_name="X", sector="food"
    )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    call = new.get_model("grants", "Call").objects.get()
    assert (call.programme_id, call.opens, call.closes, call.budget) == (
        programme.pk,
        days(-5),
        days(5),
        Decimal("5000.00"),
    )
    assert new.get_model("grants", "GrantApplication").objects.get(pk=application.pk).call_id == call.pk
    executor = MigrationExecutor(connection)
    executor.migrate(latest)


def test_finance_reads_calls_by_number_in_the_programmes_api(world, api):
    rows = {p["id"]: p for p in api(world.finance).get("/api/v1/programmes/").json()["results"]}
    call = world.programme.calls.get()
    assert rows[world.programme.pk]["calls"][0]["name"] == f"Call {call.pk}"
    rows = {p["id"]: p for p in api(world.manager).get("/api/v1/programmes/").json()["results"]}
    assert rows[world.programme.pk]["calls"][0]["name"] == call.name
