"""A reduced approval (issue 15): the approver grants less than was asked — items removed
or their quantity or unit cost lowered — with a reason the applicant is told; never more
than asked; the budget commits what was granted; the four-eyes rules are the approval's."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from core.errors import NotAllowed, RuleNotMet, ServiceError
from grants import services
from grants.models import AuditEvent, Commitment

from .conftest import verified_login
from .factories import ApplicantFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def items_of(app):
    machine, overlock = app.items.order_by("position")
    return machine, overlock


def reduce(app, by, reason="Overlock not needed for repairs; the machine costs less at our supplier."):
    machine, overlock = items_of(app)
    return services.approve_reduced(
        application=app,
        by=by,
        items={machine.pk: (1, Decimal("600.00")), overlock.pk: (0, Decimal("480.00"))},
        reason=reason,
    )


def nothing_granted(app):
    app.refresh_from_db()
    assert app.state == "business_training" and app.approved_amount is None
    assert not Commitment.objects.filter(application=app).exists()
    assert list(app.items.values_list("approved_quantity", "approved_unit_cost")) == [(None, None)] * 2


class TestService:
    def test_the_reduced_amount_is_approved_and_committed(self, world, django_capture_on_commit_callbacks):
        app = world.application(ready=True)
        with django_capture_on_commit_callbacks(execute=True):
            app = reduce(app, world.manager)
        assert (app.state, app.approved_amount) == ("approved", Decimal("600.00"))
        assert Commitment.objects.get(application=app).amount == Decimal("600.00")
        assert world.programme.remaining_budget() == Decimal("99400.00")
        machine, overlock = items_of(app)
        assert (machine.approved_quantity, machine.approved_unit_cost, machine.approved_total) == (
            1,
            Decimal("600.00"),
            Decimal("600.00"),
        )
        assert (overlock.approved_quantity, overlock.approved_total) == (0, Decimal("0.00"))
        event = AuditEvent.objects.get(application=app, action="approve")
        assert event.comment.startswith("Overlock not needed")
        assert event.data == {
            "before": {"items": [[machine.pk, 1, "620.00"], [overlock.pk, 1, "480.00"]], "total": "1100.00"},
            "after": {"items": [[machine.pk, 1, "600.00"], [overlock.pk, 0, "480.00"]], "total": "600.00"},
        }
        assert len(mail.outbox) == 1
        # (in the applicant's language, Serbian Latin here)
        assert "600.00 EUR od traženih 1100.00 EUR" in mail.outbox[0].body
        assert "Overlock not needed" in mail.outbox[0].body

    def test_a_lower_quantity_counts(self, world):
        app = world.application(ready=True, items=[("Chairs", 10, "20.00")])
        (chairs,) = app.items.all()
        app = services.approve_reduced(
            application=app, by=world.manager, items={chairs.pk: (6, Decimal("20.00"))}, reason="Six seats."
        )
        assert app.approved_amount == Decimal("120.00")

    def test_an_item_left_out_is_granted_as_asked_without_a_reason(self, world):
        app = world.application(ready=True)
        machine, _overlock = items_of(app)
        app = services.approve_reduced(application=app, by=world.manager, items={machine.pk: (1, "620.00")})
        assert app.approved_amount == Decimal("1100.00")
        assert AuditEvent.objects.get(application=app, action="approve").data == {}

    def test_a_reduction_lets_a_grant_fit_the_budget_left(self, world):
        world.programme.budget = Decimal("700.00")
        world.programme.save()
        app = world.application(ready=True)
        with pytest.raises(RuleNotMet):
            services.take_transition(application=app, name="approve", by=world.manager)
        assert reduce(app, world.manager).approved_amount == Decimal("600.00")

    @pytest.mark.parametrize("granted", [(2, "620.00"), (1, "620.01")])
    def test_nothing_is_granted_above_the_request(self, world, granted):
        app = world.application(ready=True)
        machine, _overlock = items_of(app)
        with pytest.raises(ServiceError) as excinfo:
            services.approve_reduced(
                application=app, by=world.manager, items={machine.pk: granted}, reason="More."
            )
        assert excinfo.value.code == "above_request"
        assert "more than was asked" in str(excinfo.value)
        nothing_granted(app)

    def test_a_reduction_needs_a_reason(self, world):
        app = world.application(ready=True)
        with pytest.raises(ServiceError) as excinfo:
            reduce(app, world.manager, reason="  ")
        assert excinfo.value.code == "reason_required"
        nothing_granted(app)

    def test_removing_everything_is_a_rejection_not_an_approval(self, world):
        app = world.application(ready=True)
        machine, overlock = items_of(app)
        with pytest.raises(ServiceError) as excinfo:
            services.approve_reduced(
                application=app,
                by=world.manager,
                items={machine.pk: (0, "0"), overlock.pk: (0, "0")},
                reason="No.",
            )
        assert excinfo.value.code == "nothing_approved"
        nothing_granted(app)

    def test_an_item_of_another_application_is_refused(self, world):
        app = world.application(ready=True)
        stranger = world.application().items.first()
        with pytest.raises(ServiceError) as excinfo:
            services.approve_reduced(
                application=app, by=world.manager, items={stranger.pk: (0, "0")}, reason="x"
            )
        assert excinfo.value.code == "unknown_item"
        nothing_granted(app)

    @pytest.mark.parametrize("value", [-1, "two"])
    def test_a_bad_quantity_is_refused(self, world, value):
        app = world.application(ready=True)
        machine, _overlock = items_of(app)
        with pytest.raises(ServiceError):
            services.approve_reduced(
                application=app, by=world.manager, items={machine.pk: (value, "1")}, reason="x"
            )
        nothing_granted(app)


class TestFourEyes:
    def test_the_assessor_cannot_approve_a_reduced_grant(self, world):
        """Even an officer holding the approve permission: they assessed it."""
        world.officer.user_permissions.add(Permission.objects.get(codename="approve_application"))
        officer = User.objects.get(pk=world.officer.pk)
        app = world.application(ready=True, state_facts__assessor=officer)
        with pytest.raises(NotAllowed) as excinfo:
            reduce(app, officer)
        assert "assessed" in str(excinfo.value)
        nothing_granted(app)

    @pytest.mark.parametrize("who", ["officer", "finance", "applicant"])
    def test_roles_without_the_approval_cannot(self, world, who):
        app = world.application(ready=True)
        with pytest.raises(NotAllowed):
            reduce(app, getattr(world, who))
        nothing_granted(app)

    def test_a_manager_who_is_the_applicant_cannot(self, world):
        me = ApplicantFactory(centre=world.centre, user=world.manager)
        app = world.application(applicant=me, ready=True)
        with pytest.raises(NotAllowed):
            reduce(app, world.manager)


class TestPage:
    def test_the_approver_sees_per_item_fields_and_approves_less(self, world, client):
        app = world.application(ready=True)
        machine, overlock = items_of(app)
        verified_login(client, world.manager)
        page = client.get(reverse("application-detail", args=[app.pk]))
        rows = page.context["approval_form"].rows()
        assert [row["item"].pk for row in rows] == [machine.pk, overlock.pk]
        response = client.post(
            reverse("application-step", args=[app.pk]),
            {
                "transition": "approve",
                "comment": "Only the machine.",
                f"item-{machine.pk}-quantity": "1",
                f"item-{machine.pk}-unit_cost": "620.00",
                f"item-{overlock.pk}-quantity": "0",
                f"item-{overlock.pk}-unit_cost": "480.00",
            },
        )
        assert response.status_code == 302
        app.refresh_from_db()
        assert (app.state, app.approved_amount) == ("approved", Decimal("620.00"))
        page = client.get(reverse("application-detail", args=[app.pk]))
        assert page.context["approval_form"] is None

    def test_raising_is_refused_on_the_page_with_the_reason(self, world, client):
        app = world.application(ready=True)
        machine, overlock = items_of(app)
        verified_login(client, world.manager)
        response = client.post(
            reverse("application-step", args=[app.pk]),
            {
                "transition": "approve",
                "comment": "More.",
                f"item-{machine.pk}-quantity": "3",
                f"item-{machine.pk}-unit_cost": "620.00",
                f"item-{overlock.pk}-quantity": "1",
                f"item-{overlock.pk}-unit_cost": "480.00",
            },
        )
        assert response.status_code == 400
        assert any("more than was asked" in e for e in response.context["errors"])
        assert response.context["approval_form"][f"item-{machine.pk}-quantity"].value() == "3"
        nothing_granted(app)

    def test_a_reduction_without_a_reason_is_refused_on_the_page(self, world, client):
        app = world.application(ready=True)
        machine, overlock = items_of(app)
        verified_login(client, world.manager)
        response = client.post(
            reverse("application-step", args=[app.pk]),
            {
                "transition": "approve",
                "comment": "",
                f"item-{machine.pk}-quantity": "1",
                f"item-{machine.pk}-unit_cost": "500.00",
                f"item-{overlock.pk}-quantity": "1",
                f"item-{overlock.pk}-unit_cost": "480.00",
            },
        )
        assert response.status_code == 400
        nothing_granted(app)

    def test_the_applicant_reads_what_was_granted(self, world, client):
        app = reduce(world.application(ready=True), world.manager)
        client.force_login(world.applicant)
        page = client.get(reverse("application-detail", args=[app.pk]))
        assert "600.00" in page.content.decode() or "600,00" in page.content.decode()


class TestApi:
    def url(self, app, name="approve"):
        return f"/api/v1/applications/{app.pk}/transitions/{name}/"

    def test_approve_with_items(self, world, api):
        app = world.application(ready=True)
        machine, overlock = items_of(app)
        response = api(world.manager).post(
            self.url(app),
            {
                "comment": "Overlock not needed.",
                "items": [{"item": overlock.pk, "quantity": 0, "unit_cost": "480.00"}],
            },
            format="json",
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["state"], body["approved_amount"]) == ("approved", "620.00")
        granted = {row["id"]: (row["approved_quantity"], row["approved_unit_cost"]) for row in body["items"]}
        assert granted == {machine.pk: (1, "620.00"), overlock.pk: (0, "480.00")}

    def test_raising_is_a_400_naming_the_item(self, world, api):
        app = world.application(ready=True)
        machine, _overlock = items_of(app)
        response = api(world.manager).post(
            self.url(app),
            {"comment": "x", "items": [{"item": machine.pk, "quantity": 2, "unit_cost": "620.00"}]},
            format="json",
        )
        assert response.status_code == 400
        assert "more than was asked" in response.json()["detail"]
        nothing_granted(app)

    def test_a_reduction_without_a_reason_is_a_400(self, world, api):
        app = world.application(ready=True)
        machine, _overlock = items_of(app)
        response = api(world.manager).post(
            self.url(app),
            {"items": [{"item": machine.pk, "quantity": 1, "unit_cost": "1.00"}]},
            format="json",
        )
        assert response.status_code == 400
        nothing_granted(app)

    def test_items_with_another_step_are_a_400(self, world, api):
        app = world.application(submitted=True)
        response = api(world.officer).post(
            self.url(app, "reject"),
            {"comment": "No.", "items": [{"item": app.items.first().pk, "quantity": 0, "unit_cost": "0"}]},
            format="json",
        )
        assert response.status_code == 400
        app.refresh_from_db()
        assert app.state == "submitted"

    def test_the_assessor_is_refused_with_items_too(self, world, api):
        app = world.application(ready=True)
        assessor = app.assessments.get().assessor
        response = api(assessor).post(
            self.url(app),
            {"items": [{"item": app.items.first().pk, "quantity": 1, "unit_cost": "1.00"}]},
            format="json",
        )
        assert response.status_code == 403
        nothing_granted(app)
