"""The asset register: serial numbers and asset tags entered with a delivery, ownership
passing on completion, the outcome of each item when a business closes (discontinue),
reallocation to another grant counted once, and the register's page and export."""

import csv
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.errors import ServiceError
from grants import ledger, services
from grants.models import AuditEvent, DeliveryLine
from reports import figures as reports

from .conftest import verified_login
from .factories import ApplicantFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


@pytest.fixture
def closing(world):
    """A grant in follow-up whose business closed: a sewing machine (620.00) and an
    overlock (480.00) delivered."""
    return world.application(follow_up=True)


@pytest.fixture
def receiving(world):
    """Another approved grant of the same programme, nothing delivered yet."""
    return world.application(approved=True, applicant=ApplicantFactory(centre=world.centre))


def lines_of(application):
    return list(DeliveryLine.objects.filter(delivery__application=application).order_by("item__position"))


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestMarks:
    def test_serial_number_and_asset_tag_by_the_api(self, world, receiving):
        machine = receiving.items.order_by("position").first()
        response = api_for(world.finance).post(
            f"/api/v1/applications/{receiving.pk}/deliveries/",
            {
                "delivered_on": today().isoformat(),
                "supplier": "Tehno",
                "invoice_number": "1",
                "lines": [
                    {
                        "item": machine.pk,
                        "quantity": 1,
                        "actual_unit_cost": "620.00",
                        "serial_number": "JK-2020-88341",
                        "asset_tag": "MG-0001",
                    }
                ],
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["lines"][0]["serial_number"] == "JK-2020-88341"
        line = DeliveryLine.objects.get()
        assert (line.serial_number, line.asset_tag) == ("JK-2020-88341", "MG-0001")

    def test_too_long_a_tag_is_refused_not_cut(self, world, receiving):
        machine = receiving.items.first()
        response = api_for(world.finance).post(
            f"/api/v1/applications/{receiving.pk}/deliveries/",
            {
                "delivered_on": today().isoformat(),
                "supplier": "Tehno",
                "invoice_number": "1",
                "lines": [
                    {"item": machine.pk, "quantity": 1, "actual_unit_cost": "620.00", "asset_tag": "x" * 51}
                ],
            },
            format="json",
        )
        assert response.status_code == 400
        assert not DeliveryLine.objects.exists()

    def test_serial_number_on_the_web_form(self, client, world, receiving):
        verified_login(client, world.finance)
        machine, overlock = receiving.items.order_by("position")
        response = client.post(
            reverse("delivery-new", args=[receiving.pk]),
            {
                "delivered_on": today().isoformat(),
                "supplier": "Tehno",
                "invoice_number": "1",
                "lines-TOTAL_FORMS": "2",
                "lines-INITIAL_FORMS": "2",
                "lines-0-item": machine.pk,
                "lines-0-quantity": "1",
                "lines-0-actual_unit_cost": "620.00",
                "lines-0-serial_number": "SN-1",
                "lines-1-item": overlock.pk,
                "lines-1-quantity": "1",
                "lines-1-actual_unit_cost": "480.00",
                "lines-1-asset_tag": "TAG-2",
            },
        )
        assert response.status_code == 302
        assert sorted(DeliveryLine.objects.values_list("serial_number", "asset_tag")) == [
            ("", "TAG-2"),
            ("SN-1", ""),
        ]


class TestOwnership:
    def test_completing_the_grant_passes_ownership(self, world):
        grant = world.application(follow_up=True)
        grant.visits.update(visited_on=today(), operating=True, equipment_in_use=True, jobs_owner=1)
        assert all(line.ownership_passed_on is None for line in lines_of(grant))

        services.take_transition(application=grant, name="complete", by=world.officer)

        assert {line.ownership_passed_on for line in lines_of(grant)} == {today()}


class TestDiscontinue:
    def test_without_the_outcomes_it_is_refused_and_nothing_changes(self, world, closing):
        response = api_for(world.officer).post(
            f"/api/v1/applications/{closing.pk}/transitions/discontinue/",
            {"comment": "The business closed."},
            format="json",
        )
        assert response.status_code == 400
        assert "what became of each delivered item" in response.json()["detail"]
        closing.refresh_from_db()
        assert closing.state == "follow_up"
        with pytest.raises(ServiceError):
            services.take_transition(
                application=closing, name="discontinue", by=world.officer, comment="Closed."
            )

    def test_sold_needs_the_proceeds(self, world, closing):
        machine, overlock = lines_of(closing)
        with pytest.raises(ServiceError):
            services.discontinue_grant(
                application=closing,
                by=world.officer,
                comment="Closed.",
                outcomes=[{"line": machine.pk, "outcome": "sold"}, {"line": overlock.pk, "outcome": "lost"}],
            )
        closing.refresh_from_db()
        assert closing.state == "follow_up"
        assert {line.outcome for line in lines_of(closing)} == {""}

    def test_each_outcome_is_kept_and_audited(self, world, closing):
        machine, overlock = lines_of(closing)
        response = api_for(world.officer).post(
            f"/api/v1/applications/{closing.pk}/transitions/discontinue/",
            {
                "comment": "The business closed.",
                "equipment": [
                    {"line": machine.pk, "outcome": "sold", "proceeds": "300.00"},
                    {"line": overlock.pk, "outcome": "recovered"},
                ],
            },
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert response.json()["state"] == "discontinued"
        machine.refresh_from_db()
        overlock.refresh_from_db()
        assert (machine.outcome, machine.proceeds, overlock.outcome) == (
            "sold",
            Decimal("300.00"),
            "recovered",
        )
        event = AuditEvent.objects.get(application=closing, action="equipment_outcomes_recorded")
        assert event.data["outcomes"][0] == {"line": machine.pk, "outcome": "sold", "proceeds": "300.00"}

    def test_reallocation_to_another_programme_is_refused(self, world, closing):
        elsewhere = world.application(
            approved=True,
            programme=ProgrammeFactory(country=world.serbia),
            applicant=ApplicantFactory(centre=world.centre),
        )
        machine, overlock = lines_of(closing)
        with pytest.raises(ServiceError, match="same programme"):
            services.discontinue_grant(
                application=closing,
                by=world.officer,
                comment="Closed.",
                outcomes=[
                    {"line": machine.pk, "outcome": "reallocated", "to_item": elsewhere.items.first().pk},
                    {"line": overlock.pk, "outcome": "lost"},
                ],
            )
        assert not DeliveryLine.objects.filter(delivery__application=elsewhere).exists()


def discontinue_with_reallocation(world, closing, receiving):
    machine, overlock = lines_of(closing)
    target = receiving.items.order_by("position").first()
    services.discontinue_grant(
        application=closing,
        by=world.officer,
        comment="The business closed.",
        outcomes=[
            {"line": machine.pk, "outcome": "reallocated", "to_item": target.pk},
            {"line": overlock.pk, "outcome": "lost"},
        ],
    )
    return machine, target


class TestReallocation:
    def test_the_item_moves_to_the_other_grant_once(self, world, closing, receiving):
        machine, target = discontinue_with_reallocation(world, closing, receiving)

        received = DeliveryLine.objects.get(delivery__application=receiving)
        assert received.reallocated_from == machine and received.item == target
        assert (received.quantity, received.amount, received.amount_eur) == (1, Decimal("0"), Decimal("0"))
        assert received.book_value == machine.amount == Decimal("620.00")
        assert received.value == Decimal("620.00")
        assert AuditEvent.objects.filter(application=receiving, action="equipment_reallocated").count() == 1
        # The line is accounted for and the grant closed: it cannot move a second time.
        closing.refresh_from_db()
        assert closing.state == "discontinued"
        with pytest.raises(ServiceError):
            services.discontinue_grant(
                application=closing,
                by=world.officer,
                comment="Again.",
                outcomes=[{"line": machine.pk, "outcome": "reallocated", "to_item": target.pk}],
            )
        assert DeliveryLine.objects.filter(reallocated_from=machine).count() == 1
        # The receiving grant has it: one item less to deliver, its cost still open.
        assert [item.pk for item in receiving.undelivered_items()] != [target.pk]
        assert target.pk not in {item.pk for item in receiving.undelivered_items()}

    def test_the_ledger_the_budget_and_the_impact_figures_agree(self, world, closing, receiving):
        discontinue_with_reallocation(world, closing, receiving)
        programme_lines = DeliveryLine.objects.filter(delivery__application__programme=world.programme)
        # From the rows: the money spent is the purchases only, each counted once.
        spent = programme_lines.filter(reallocated_from__isnull=True).aggregate(total=Sum("amount"))["total"]
        spent_eur = programme_lines.aggregate(total=Sum("amount_eur"))["total"]
        assert spent == Decimal("1100.00") and spent_eur == Decimal("1100.00")
        assert programme_lines.aggregate(total=Sum("amount"))["total"] == spent

        closing_ledger = ledger.application_ledger(closing, reader=world.finance)
        receiving_ledger = ledger.application_ledger(receiving, reader=world.finance)
        assert closing_ledger["delivered"] == Decimal("1100.00")
        assert closing_ledger["committed"] == Decimal("1100.00")  # at cost: discontinued
        assert receiving_ledger["delivered"] == Decimal("0.00")
        assert receiving_ledger["lines"][0]["book_value"] == Decimal("620.00")
        assert receiving_ledger["committed"] == Decimal("1100.00")  # still approved: its commitment

        row = next(
            r for r in reports.budget_report(world.finance)["results"] if r["id"] == world.programme.pk
        )
        assert row["delivered"] == closing_ledger["delivered"] + receiving_ledger["delivered"] == spent
        assert row["committed"] == closing_ledger["committed"] + receiving_ledger["committed"]
        assert row["delivered_eur"] == spent_eur

        impact = reports.impact_report(world.manager, reports.ReportFilters(programme=world.programme.pk))
        assert impact["totals"]["investment_eur"] == spent_eur


class TestDiscontinuePage:
    def test_the_page_asks_for_each_item_and_records_them(self, client, world, closing, receiving):
        verified_login(client, world.officer)
        page = client.get(reverse("application-detail", args=[closing.pk]))
        machine, overlock = lines_of(closing)
        assert [line["pk"] for line in page.context["equipment_lines"]] == [machine.pk, overlock.pk]
        target = receiving.items.order_by("position").first()
        assert target.pk in [item.pk for item in page.context["reallocation_targets"]]

        response = client.post(
            reverse("application-step", args=[closing.pk]),
            {
                "transition": "discontinue",
                "comment": "The business closed.",
                f"equipment-{machine.pk}-outcome": "reallocated",
                f"equipment-{machine.pk}-to_item": target.pk,
                f"equipment-{overlock.pk}-outcome": "lost",
            },
        )
        assert response.status_code == 302
        closing.refresh_from_db()
        assert closing.state == "discontinued"
        assert DeliveryLine.objects.filter(delivery__application=receiving, reallocated_from=machine).exists()

    def test_a_missing_outcome_is_shown_and_nothing_changes(self, client, world, closing):
        verified_login(client, world.officer)
        machine, _overlock = lines_of(closing)
        response = client.post(
            reverse("application-step", args=[closing.pk]),
            {"transition": "discontinue", "comment": "Closed.", f"equipment-{machine.pk}-outcome": "lost"},
        )
        assert response.status_code == 400
        closing.refresh_from_db()
        assert closing.state == "follow_up"


class TestRegister:
    @pytest.mark.parametrize(
        "role,code", [("finance", 200), ("manager", 200), ("officer", 403), ("auditor", 403)]
    )
    def test_who_reads_it(self, client, world, closing, role, code):
        verified_login(client, getattr(world, role))
        assert client.get(reverse("finance-assets")).status_code == code

    def test_the_applicant_does_not(self, client, world, closing):
        client.force_login(world.applicant)
        assert client.get(reverse("finance-assets")).status_code in (302, 403)

    def test_it_lists_and_exports_each_item(self, client, world, closing, receiving):
        discontinue_with_reallocation(world, closing, receiving)
        verified_login(client, world.finance)
        page = client.get(reverse("finance-assets"))
        assert {(row["grant"], row["outcome"] or None) for row in page.context["rows"]} == {
            (closing.pk, "Reallocated to another grant"),
            (closing.pk, "Lost"),
            (receiving.pk, None),
        }
        export = client.get(reverse("finance-assets"), {"format": "csv"})
        rows = list(csv.DictReader(io.StringIO(export.content.decode())))
        moved = next(row for row in rows if row["reallocated_from_grant"])
        assert (moved["grant"], moved["value"], moved["reallocated_from_grant"]) == (
            str(receiving.pk),
            "620.00",
            str(closing.pk),
        )

    def test_the_register_has_a_bounded_number_of_queries(
        self, client, world, closing, django_assert_max_num_queries
    ):
        verified_login(client, world.finance)
        client.get(reverse("finance-assets"))
        for _ in range(4):
            world.application(follow_up=True, applicant=ApplicantFactory(centre=world.centre))
        with django_assert_max_num_queries(15):
            response = client.get(reverse("finance-assets"))
        assert len(response.context["rows"]) == 10
