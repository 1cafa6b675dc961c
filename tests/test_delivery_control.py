"""Cost control of deliveries: a price above the approved one (plus the programme's
tolerance) needs a programme manager's recorded re-approval, the ceiling per grant is
never passed, and the variances (delivered against approved) per grant, supplier and
programme. The race of two deliveries at once is in TestRace (PostgreSQL)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from applicants import roles
from core.errors import NotAllowed, NotVisible, ServiceError
from grants import ledger, services
from grants.models import AuditEvent, CostReapproval, Delivery, DeliveryLine
from reports import figures as reports

from .conftest import run_at_once, verified_login
from .factories import staff, upload_handover_protocol

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def deliver(application, by, lines, supplier="Tehno Alat d.o.o.", invoice="INV-1"):
    return services.record_delivery_lines(
        application=application,
        by=by,
        delivered_on=today(),
        supplier=supplier,
        invoice_number=invoice,
        lines=lines,
    )


def items(application):
    return list(application.items.order_by("position"))


@pytest.fixture
def grant(world):
    """Approved at 1,100.00 (a machine at 620.00 and an overlock at 480.00); the
    programme's ceiling per grant is 3,000.00 and its tolerance 10 %."""
    application = world.application(approved=True)
    assert application.approved_amount == Decimal("1100.00")
    assert world.programme.ceiling == Decimal("3000.00")
    assert world.programme.cost_tolerance == Decimal("0.10")
    return application


class TestCostControl:
    def test_a_delivery_at_10000_against_1100_is_refused_without_reapproval(self, world, grant):
        machine, _overlock = items(grant)

        with pytest.raises(ServiceError) as refused:
            deliver(
                grant, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "10000.00"}]
            )

        assert refused.value.code == "above_ceiling"
        assert not Delivery.objects.exists() and not DeliveryLine.objects.exists()
        grant.refresh_from_db()
        assert grant.state == "approved"

    def test_a_price_above_tolerance_names_who_must_reapprove(self, world, grant):
        machine, _overlock = items(grant)

        with pytest.raises(ServiceError) as refused:
            deliver(grant, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "700.00"}])

        assert refused.value.code == "reapproval_needed"
        assert "programme manager must re-approve" in str(refused.value.message)
        assert not Delivery.objects.exists()

    def test_a_price_within_tolerance_passes(self, world, grant):
        machine, overlock = items(grant)
        # 620 × 1.10 = 682.00 and 480 × 1.10 = 528.00: at the limit, in total 1,210.00.
        deliver(
            grant,
            world.finance,
            [
                {"item": machine.pk, "quantity": 1, "actual_unit_cost": "682.00"},
                {"item": overlock.pk, "quantity": 1, "actual_unit_cost": "528.00"},
            ],
        )
        assert Delivery.objects.get().reapproval is None

    def test_a_total_above_approved_plus_tolerance_needs_reapproval(self, world, grant):
        machine, overlock = items(grant)
        # Prices within tolerance, but the approval granted less than the items' sum.
        type(grant).objects.filter(pk=grant.pk).update(approved_amount=Decimal("700.00"))
        grant.refresh_from_db()
        deliver(grant, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "620.00"}])

        with pytest.raises(ServiceError) as refused:
            deliver(
                grant,
                world.finance,
                [{"item": overlock.pk, "quantity": 1, "actual_unit_cost": "480.00"}],
                invoice="2",
            )
        assert refused.value.code == "reapproval_needed"
        assert "770.00" in str(refused.value.message)

    def test_after_a_recorded_reapproval_it_passes_and_never_above_the_ceiling(self, world, grant):
        machine, overlock = items(grant)
        reapproval = services.reapprove_cost(
            application=grant, by=world.manager, limit="2500.00", reason="Prices rose after the quote."
        )
        event = AuditEvent.objects.get(application=grant, action="delivery_cost_reapproved")
        assert event.actor == world.manager and event.data["limit"] == "2500.00"

        with pytest.raises(ServiceError) as refused:
            deliver(
                grant, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "10000.00"}]
            )
        assert refused.value.code == "above_ceiling"

        delivery = deliver(
            grant, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "2000.00"}]
        )
        assert delivery.reapproval == reapproval
        assert (
            AuditEvent.objects.get(application=grant, action="delivery").data["reapproval"] == reapproval.pk
        )

        # Beyond the re-approved total: refused again, the re-approval covers 2,500.00.
        with pytest.raises(ServiceError) as refused:
            deliver(
                grant,
                world.finance,
                [{"item": overlock.pk, "quantity": 1, "actual_unit_cost": "600.00"}],
                invoice="2",
            )
        assert refused.value.code == "reapproval_needed"

    def test_a_reapproval_above_the_ceiling_or_without_a_reason_is_refused(self, world, grant):
        with pytest.raises(ServiceError) as refused:
            services.reapprove_cost(application=grant, by=world.manager, limit="3000.01", reason="Dearer.")
        assert refused.value.code == "above_ceiling"
        with pytest.raises(ServiceError):
            services.reapprove_cost(application=grant, by=world.manager, limit="2000.00", reason="  ")
        assert not CostReapproval.objects.exists()
        assert not AuditEvent.objects.filter(action="delivery_cost_reapproved").exists()


class TestReapprovalPermissions:
    @pytest.mark.parametrize("role", ["finance", "officer", "auditor", "applicant"])
    def test_only_a_programme_manager_reapproves(self, world, grant, role):
        user = getattr(world, role)
        with pytest.raises((NotAllowed, NotVisible)):
            services.reapprove_cost(application=grant, by=user, limit="2000.00", reason="Dearer.")
        assert not CostReapproval.objects.exists()

    def test_a_manager_of_another_centre_does_not_see_the_grant(self, world, grant):
        stranger = staff(roles.PROGRAMME_MANAGER, world.other_centre, username="far_manager")
        with pytest.raises(NotVisible):
            services.reapprove_cost(application=grant, by=stranger, limit="2000.00", reason="Dearer.")

    def test_the_page_for_managers_and_403_for_finance(self, client, world, grant):
        url = reverse("application-cost-reapproval", args=[grant.pk])
        verified_login(client, world.finance)
        assert client.get(url).status_code == 403
        verified_login(client, world.manager)
        assert client.get(url).status_code == 200
        response = client.post(url, {"limit": "1800.00", "reason": "New price list."})
        assert response.status_code == 302
        assert CostReapproval.objects.get().limit == Decimal("1800.00")
        response = client.post(url, {"limit": "9000.00", "reason": "Too much."})
        assert response.status_code == 400
        assert CostReapproval.objects.count() == 1

    def test_the_api(self, world, grant):
        api = APIClient()
        url = f"/api/v1/applications/{grant.pk}/cost-reapprovals/"
        api.force_authenticate(world.finance)
        assert api.post(url, {"limit": "1800.00", "reason": "x"}, format="json").status_code == 403
        api.force_authenticate(world.manager)
        response = api.post(url, {"limit": "1800.00", "reason": "New price list."}, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["limit"] == "1800.00"
        api.force_authenticate(world.finance)
        assert [r["limit"] for r in api.get(url).json()["results"]] == ["1800.00"]
        machine, _overlock = items(grant)
        response = api.post(
            f"/api/v1/applications/{grant.pk}/deliveries/",
            {
                "delivered_on": today().isoformat(),
                "supplier": "Tehno",
                "invoice_number": "9",
                "lines": [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "1700.00"}],
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["reapproval"] == CostReapproval.objects.get().pk


class TestDeliveryPage:
    def test_a_refused_price_is_shown_and_nothing_is_recorded(self, client, world, grant):
        verified_login(client, world.finance)
        machine, overlock = items(grant)
        response = client.post(
            reverse("delivery-new", args=[grant.pk]),
            {
                "delivered_on": today().isoformat(),
                "supplier": "Tehno",
                "invoice_number": "1",
                "lines-TOTAL_FORMS": "2",
                "lines-INITIAL_FORMS": "2",
                "lines-0-item": machine.pk,
                "lines-0-quantity": "1",
                "lines-0-actual_unit_cost": "10000.00",
                "lines-1-item": overlock.pk,
                "lines-1-quantity": "0",
            },
        )
        assert response.status_code == 400
        assert any("ceiling" in error for error in response.context["errors"])
        assert not Delivery.objects.exists()


class TestVariances:
    def test_per_grant_supplier_and_programme_agree_with_the_lines(self, world, grant):
        machine, overlock = items(grant)
        services.reapprove_cost(application=grant, by=world.manager, limit="1500.00", reason="Dearer.")
        deliver(
            grant,
            world.finance,
            [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "700.00"}],
            "A d.o.o.",
        )
        deliver(
            grant,
            world.finance,
            [{"item": overlock.pk, "quantity": 1, "actual_unit_cost": "450.00"}],
            "B d.o.o.",
            invoice="2",
        )

        entry = ledger.application_ledger(grant, reader=world.finance)
        assert entry["variance"] == Decimal("50.00")
        assert {row["supplier"]: row["variance"] for row in entry["by_supplier"]} == {
            "A d.o.o.": Decimal("80.00"),
            "B d.o.o.": Decimal("-30.00"),
        }
        assert [r["limit"] for r in entry["reapprovals"]] == [Decimal("1500.00")]

        row = next(
            r for r in reports.budget_report(world.finance)["results"] if r["id"] == world.programme.pk
        )
        assert (row["delivered"], row["delivered_at_approved"], row["variance"]) == (
            Decimal("1150.00"),
            Decimal("1100.00"),
            Decimal("50.00"),
        )
        suppliers = {r["supplier"]: r["variance"] for r in reports.supplier_variances(world.finance)}
        assert suppliers == {"A d.o.o.": Decimal("80.00"), "B d.o.o.": Decimal("-30.00")}

    def test_suppliers_are_named_to_finance_not_to_the_auditor(self, world, grant):
        machine, _overlock = items(grant)
        deliver(grant, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "600.00"}])
        api = APIClient()
        api.force_authenticate(world.finance)
        assert api.get("/api/v1/reports/budget/").json()["by_supplier"][0]["variance"] == "-20.00"
        api.force_authenticate(world.auditor)
        body = api.get("/api/v1/reports/budget/").json()
        assert "by_supplier" not in body
        assert body["results"][0]["variance"] in ("-20.00", "0.00")

    def test_the_budget_page_shows_the_supplier_variances(self, client, world, grant):
        machine, _overlock = items(grant)
        deliver(grant, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "600.00"}])
        verified_login(client, world.finance)
        response = client.get(reverse("finance-budget"))
        assert [row["supplier"] for row in response.context["suppliers"]] == ["Tehno Alat d.o.o."]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestRace:
    """Two deliveries recorded at once, each in its own thread and connection: the
    application's row lock makes the second see the first."""

    def deliver_via_api(self, user, application, item, cost, invoice):
        def call():
            client = APIClient()
            client.force_authenticate(user)
            response = client.post(
                f"/api/v1/applications/{application.pk}/deliveries/",
                {
                    "delivered_on": today().isoformat(),
                    "supplier": "Tehno",
                    "invoice_number": invoice,
                    "lines": [{"item": item.pk, "quantity": 1, "actual_unit_cost": cost}],
                },
                format="json",
            )
            return response.status_code, response.json()

        return call

    def test_two_deliveries_never_pass_the_approved_amount_plus_tolerance(self, world):
        grant = world.application(approved=True)
        # Approved at 700.00 (a reduced approval): 770.00 with the tolerance; each
        # delivery alone (620.00, 480.00) is within it, both together are not.
        type(grant).objects.filter(pk=grant.pk).update(approved_amount=Decimal("700.00"))
        machine, overlock = items(grant)
        other_finance = staff(roles.FINANCE_OFFICER, world.centre, username="finance_b")

        results = run_at_once(
            [
                self.deliver_via_api(world.finance, grant, machine, "620.00", "1"),
                self.deliver_via_api(other_finance, grant, overlock, "480.00", "2"),
            ]
        )

        assert sorted(code for code, _body in results) == [201, 400]
        refused = next(body for code, body in results if code == 400)
        assert "re-approve" in refused["detail"]
        assert Delivery.objects.filter(application=grant).count() == 1
        assert services.delivered_cost(grant) <= Decimal("770.00")

    def test_two_reapproved_deliveries_never_pass_the_ceiling(self, world):
        grant = world.application(approved=True)
        services.reapprove_cost(application=grant, by=world.manager, limit="3000.00", reason="New prices.")
        machine, overlock = items(grant)
        other_finance = staff(roles.FINANCE_OFFICER, world.centre, username="finance_b")

        results = run_at_once(
            [
                self.deliver_via_api(world.finance, grant, machine, "2000.00", "1"),
                self.deliver_via_api(other_finance, grant, overlock, "2000.00", "2"),
            ]
        )

        assert sorted(code for code, _body in results) == [201, 400]
        assert Delivery.objects.filter(application=grant).count() == 1
        assert services.delivered_cost(grant) == Decimal("2000.00") <= world.programme.ceiling


class TestDonorFilter:
    def test_the_impact_report_applies_the_donor(self, world):
        from .factories import ProgrammeFactory

        other = ProgrammeFactory(country=world.serbia, donor="Other Fund")
        world.application(delivered=True)
        world.application(delivered=True, programme=other)
        api = APIClient()
        api.force_authenticate(world.manager)

        everyone = api.get("/api/v1/reports/impact/").json()
        ours = api.get("/api/v1/reports/impact/", {"donor": "Donor Foundation"}).json()
        theirs = api.get("/api/v1/reports/impact/", {"donor": "Other Fund"}).json()
        nobody = api.get("/api/v1/reports/impact/", {"donor": "Nobody"}).json()

        assert everyone["enterprises_supported"] == 2
        assert (ours["enterprises_supported"], theirs["enterprises_supported"]) == (1, 1)
        assert nobody["enterprises_supported"] == 0
        assert ours["filters"] == {"donor": "Donor Foundation"}
        assert Decimal(ours["investment_eur"]) == Decimal("1100.00")

    def test_a_donor_longer_than_the_field_is_refused(self, world):
        api = APIClient()
        api.force_authenticate(world.manager)
        response = api.get("/api/v1/reports/impact/", {"donor": "x" * 201})
        assert response.status_code == 400
        assert "donor" in str(response.json())


class TestHandoverPerDelivery:
    def test_a_protocol_uploaded_before_the_delivery_does_not_count(self, world, grant):
        from grants import workflow

        early = upload_handover_protocol(grant, world.finance, note=b"early")
        machine, overlock = items(grant)
        delivery = deliver(
            grant,
            world.finance,
            [
                {"item": machine.pk, "quantity": 1, "actual_unit_cost": "620.00"},
                {"item": overlock.pk, "quantity": 1, "actual_unit_cost": "480.00"},
            ],
        )
        grant.refresh_from_db()
        delivery.refresh_from_db()
        assert grant.state == "approved"
        assert delivery.handover_protocol is None
        assert not workflow.HANDOVER_PROTOCOL(grant)
        # Linked by hand to a delivery recorded after it: still not counted.
        Delivery.objects.filter(pk=delivery.pk).update(handover_protocol=early)
        assert not workflow.HANDOVER_PROTOCOL(grant)

        signed = upload_handover_protocol(grant, world.finance, note=b"signed")

        grant.refresh_from_db()
        assert grant.state == "equipment_delivered"
        event = AuditEvent.objects.filter(application=grant, action="document_uploaded").latest("id")
        assert event.data["deliveries"] == [delivery.pk]
        delivery.refresh_from_db()
        assert delivery.handover_protocol == signed

    def test_each_delivery_needs_a_protocol_uploaded_after_it(self, world, grant):
        from grants import workflow

        machine, overlock = items(grant)
        first = deliver(
            grant, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "620.00"}]
        )
        protocol = upload_handover_protocol(grant, world.finance, note=b"first")
        first.refresh_from_db()
        assert first.handover_protocol == protocol
        assert workflow.HANDOVER_PROTOCOL(grant)

        second = deliver(
            grant,
            world.finance,
            [{"item": overlock.pk, "quantity": 1, "actual_unit_cost": "480.00"}],
            invoice="2",
        )
        grant.refresh_from_db()
        assert grant.state == "approved"  # every item delivered, the second not signed for
        assert not workflow.HANDOVER_PROTOCOL(grant)

        upload_handover_protocol(grant, world.finance, note=b"second")
        second.refresh_from_db()
        first.refresh_from_db()
        assert first.handover_protocol == protocol and second.handover_protocol != protocol
        grant.refresh_from_db()
        assert grant.state == "equipment_delivered"

    def test_the_protocol_of_one_delivery_lists_its_lines_only(self, world, grant):
        import io

        from pypdf import PdfReader

        machine, overlock = items(grant)
        first = deliver(
            grant, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "620.00"}]
        )
        api = APIClient()
        api.force_authenticate(world.finance)

        one = api.get(f"/api/v1/applications/{grant.pk}/deliveries/{first.pk}/handover-protocol.pdf")
        whole = api.get(f"/api/v1/applications/{grant.pk}/handover-protocol.pdf")

        assert one.status_code == 200 and whole.status_code == 200
        text_one = "".join(page.extract_text() for page in PdfReader(io.BytesIO(one.content)).pages)
        text_whole = "".join(page.extract_text() for page in PdfReader(io.BytesIO(whole.content)).pages)
        assert machine.description in text_one and overlock.description not in text_one
        assert "INV-1" in text_one
        assert machine.description in text_whole and overlock.description in text_whole
        event = AuditEvent.objects.filter(action="handover_protocol_printed").first()
        assert event.data["delivery"] == first.pk

    def test_a_delivery_of_another_grant_is_not_found(self, world, grant):
        other = world.application(approved=True)
        machine = other.items.first()
        delivery = deliver(
            other, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "620.00"}]
        )
        api = APIClient()
        api.force_authenticate(world.finance)
        url = f"/api/v1/applications/{grant.pk}/deliveries/{delivery.pk}/handover-protocol.pdf"
        assert api.get(url).status_code == 404

    @pytest.mark.parametrize(
        "role,code", [("finance", 200), ("officer", 200), ("auditor", 403), ("applicant", 403)]
    )
    def test_who_prints_the_protocol_of_a_delivery(self, world, grant, role, code):
        machine = grant.items.first()
        delivery = deliver(
            grant, world.finance, [{"item": machine.pk, "quantity": 1, "actual_unit_cost": "620.00"}]
        )
        api = APIClient()
        api.force_authenticate(getattr(world, role))
        response = api.get(f"/api/v1/applications/{grant.pk}/deliveries/{delivery.pk}/handover-protocol.pdf")
        assert response.status_code == code
