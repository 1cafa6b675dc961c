"""Finance pages: the budget per programme, deliveries and handover protocols, recording
a delivery with its lines, the commitments ledger and the exports. Finance never sees the
sensitive section nor the documents that reveal it."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from grants.models import AuditEvent, Delivery, DeliveryLine
from reports import figures as reports

from .conftest import verified_login
from .factories import ApplicantFactory, ApplicantSensitiveFactory, DocumentFactory, upload_handover_protocol

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(client, world):
    return verified_login(client, world.finance)


def today():
    return timezone.localdate()


class TestBudget:
    def test_it_shows_budget_committed_delivered_and_remaining_per_programme(self, finance, world):
        world.application(approved=True)  # 1100.00 committed
        world.application(delivered=True, applicant=ApplicantFactory(centre=world.centre))  # 1100.00 at cost

        response = finance.get(reverse("finance-budget"))
        body = response.content.decode()

        row = next(
            r for r in reports.budget_report(world.finance)["results"] if r["id"] == world.programme.pk
        )
        assert (row["committed"], row["delivered"], row["remaining"]) == (
            Decimal("2200.00"),
            Decimal("1100.00"),
            Decimal("97800.00"),
        )
        # The page's row: finance reads the programme by its public label.
        shown = next(r for r in response.context["report"]["results"] if r["id"] == world.programme.pk)
        assert shown["name"] == world.programme.public_label
        assert (shown["budget"], shown["committed"], shown["delivered"], shown["remaining"]) == (
            Decimal("100000.00"),
            Decimal("2200.00"),
            Decimal("1100.00"),
            Decimal("97800.00"),
        )
        assert (shown["committed_share"], shown["delivered_share"]) == (2, 1)
        for amount in ("100,000.00 EUR", "2,200.00 EUR", "1,100.00 EUR", "97,800.00 EUR"):
            assert amount in body
        assert f'<meter id="committed-{world.programme.pk}"' in body

    def test_the_export_links_are_served_by_the_project(self, finance, world):
        body = finance.get(reverse("finance-budget")).content.decode()
        url = reverse("api:report-budget-export", args=["csv"])
        assert f'href="{url}"' in body
        response = finance.get(url)
        assert response.status_code == 200
        assert (
            str(world.programme.public_label)
            in b"".join(response.streaming_content if response.streaming else [response.content]).decode()
        )


class TestDeliveries:
    def test_it_lists_grants_waiting_and_deliveries_recorded(self, finance, world):
        waiting = world.application(approved=True, business_name="Waiting oven")
        world.application(
            delivered=True, business_name="Delivered saw", applicant=ApplicantFactory(centre=world.centre)
        )

        response = finance.get(reverse("finance-deliveries"))

        rows = {a.business_name: a for a in response.context["waiting"]}
        assert list(rows) == ["Waiting oven"]
        oven = rows["Waiting oven"]
        assert (oven.quantity_delivered, oven.quantity_ordered, oven.has_protocol) == (0, 2, False)
        assert [d.application.business_name for d in response.context["page"]] == ["Delivered saw"]
        body = response.content.decode()
        assert "0 / 2" in body and reverse("application-detail", args=[waiting.pk]) in body

    def test_the_list_has_a_bounded_number_of_queries(self, finance, world, django_assert_max_num_queries):
        for _ in range(6):
            world.application(delivered=True, applicant=ApplicantFactory(centre=world.centre))
            world.application(approved=True, applicant=ApplicantFactory(centre=world.centre))
        with django_assert_max_num_queries(14):
            response = finance.get(reverse("finance-deliveries"))
        assert response.status_code == 200


class TestRecordDelivery:
    def post(self, client, application, lines, **overrides):
        data = {
            "delivered_on": today().isoformat(),
            "supplier": "Tehno Alat d.o.o.",
            "invoice_number": "INV-77",
            "lines-TOTAL_FORMS": str(len(lines)),
            "lines-INITIAL_FORMS": str(len(lines)),
        }
        for i, (item, quantity, cost) in enumerate(lines):
            data.update(
                {
                    f"lines-{i}-item": item.pk,
                    f"lines-{i}-quantity": quantity,
                    f"lines-{i}-actual_unit_cost": cost,
                }
            )
        data.update(overrides)
        return client.post(reverse("delivery-new", args=[application.pk]), data)

    def test_a_partial_delivery_is_recorded_and_the_grant_waits(self, finance, world):
        application = world.application(approved=True)
        machine, overlock = application.items.order_by("position")
        page = finance.get(reverse("delivery-new", args=[application.pk])).content.decode()
        assert machine.description in page and overlock.description in page

        response = self.post(finance, application, [(machine, "1", "600.00"), (overlock, "0", "")])

        assert response.status_code == 302
        delivery = Delivery.objects.get(application=application)
        line = DeliveryLine.objects.get(delivery=delivery)
        assert (line.item, line.quantity, line.amount, delivery.recorded_by) == (
            machine,
            1,
            Decimal("600.00"),
            world.finance,
        )
        application.refresh_from_db()
        assert application.state == "approved"
        assert AuditEvent.objects.filter(application=application, action="delivery").exists()

    def test_the_last_item_then_the_protocol_completes_the_delivery(self, finance, world):
        application = world.application(approved=True)
        # A protocol uploaded before the delivery does not confirm it (docs/design.md).
        DocumentFactory(application=application, kind="handover_protocol")
        machine, overlock = application.items.order_by("position")

        self.post(finance, application, [(machine, "1", "610.00"), (overlock, "1", "470.00")])

        application.refresh_from_db()
        assert application.state == "approved"
        upload_handover_protocol(application, world.finance)
        application.refresh_from_db()
        assert application.state == "equipment_delivered"

    def test_a_missing_price_is_named_and_nothing_is_recorded(self, finance, world):
        application = world.application(approved=True)
        machine, overlock = application.items.order_by("position")

        response = self.post(finance, application, [(machine, "1", ""), (overlock, "0", "")])

        assert response.status_code == 400
        assert "Give the price paid" in response.content.decode()
        assert 'value="Tehno Alat d.o.o."' in response.content.decode()
        assert not Delivery.objects.filter(application=application).exists()

    def test_more_than_is_due_is_refused_by_the_service(self, finance, world):
        application = world.application(approved=True)
        machine, overlock = application.items.order_by("position")
        response = self.post(finance, application, [(machine, "5", "600"), (overlock, "0", "")])
        assert response.status_code == 400
        assert "still to deliver" in response.content.decode()
        assert not Delivery.objects.filter(application=application).exists()

    def test_a_future_date_is_refused(self, finance, world):
        application = world.application(approved=True)
        machine, overlock = application.items.order_by("position")
        tomorrow = (today() + datetime.timedelta(days=1)).isoformat()
        response = self.post(finance, application, [(machine, "1", "600")], delivered_on=tomorrow)
        assert response.status_code == 400
        assert not Delivery.objects.exists()

    def test_whoever_approved_it_does_not_record_its_delivery(self, client, world):
        application = world.application(approved=True, state_facts__approver=world.finance)
        verified_login(client, world.finance)
        response = client.get(reverse("delivery-new", args=[application.pk]))
        assert response.status_code == 403
        assert "another person must record its delivery" in response.content.decode()


class TestLedger:
    def test_the_commitments_ledger_lists_each_commitment(
        self, finance, world, django_assert_max_num_queries
    ):
        approved = world.application(approved=True, business_name="Committed grant")
        for _ in range(5):
            world.application(approved=True, applicant=ApplicantFactory(centre=world.centre))
        with django_assert_max_num_queries(12):
            body = finance.get(reverse("finance-commitments")).content.decode()
        assert "Committed grant" in body
        assert reverse("application-ledger-page", args=[approved.pk]) in body
        assert body.count("1,100.00 EUR") == 6

    def test_the_ledger_of_one_grant(self, finance, world):
        application = world.application(delivered=True)
        body = finance.get(reverse("application-ledger-page", args=[application.pk])).content.decode()
        assert "Industrial sewing machine" in body
        assert "1,100.00 EUR" in body


class TestFinanceNeverSeesSensitiveFacts:
    def test_the_application_page_has_no_sensitive_section_nor_certificates(self, finance, world):
        ApplicantSensitiveFactory(applicant=world.person)
        application = world.application(approved=True)
        certificate = DocumentFactory(
            application=application, kind="release_certificate", original_name="release.pdf"
        )

        body = finance.get(
            reverse("application-detail", args=[application.pk]), {"show": "sensitive"}
        ).content.decode()

        assert "Sensitive facts" not in body
        assert "Sremska Mitrovica" not in body
        assert "release.pdf" not in body
        assert finance.get(reverse("document-download-page", args=[certificate.pk])).status_code == 404
        assert not AuditEvent.objects.filter(action="sensitive_viewed").exists()

    @pytest.mark.parametrize(
        "name",
        ["inbox", "approvals", "applicant-list", "applicant-register", "cohort-list", "my-applications"],
    )
    def test_other_roles_pages_answer_403(self, finance, name):
        assert finance.get(reverse(name)).status_code == 403

    def test_the_home_page_is_the_budget(self, finance):
        assert finance.get(reverse("home")).url == reverse("finance-budget")
