"""Money: amounts to the cent, conversion to EUR at the delivery date's rate, Decimal
everywhere (no float in money code), and, on PostgreSQL, budgets and deliveries that stay
right when two people act at the same moment."""

import ast
import datetime
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import models

from core.errors import RuleNotMet, ServiceError
from core.money import parse_amount
from grants import ledger, services
from grants import workflow as wf
from grants.models import (
    MONEY,
    AuditEvent,
    Commitment,
    Delivery,
    DeliveryLine,
    EquipmentItem,
    GrantApplication,
)
from reports import figures as reports

from .conftest import run_at_once
from .factories import (
    ApplicantFactory,
    ExchangeRateFactory,
    ProgrammeFactory,
    staff,
    upload_handover_protocol,
)

APPS = ("core", "grants", "assessments", "applicants", "reports")


def deliver(app, by, on, lines, invoice="INV-1"):
    return services.record_delivery_lines(
        application=app, by=by, delivered_on=on, supplier="Agro Centar", invoice_number=invoice, lines=lines
    )


@pytest.fixture
def dinar(world):
    programme = ProgrammeFactory(
        country=world.serbia,
        currency="RSD",
        budget=Decimal("900000000000.00"),
        ceiling=Decimal("900000000000.00"),
    )
    ExchangeRateFactory(currency="RSD", date=datetime.date(2025, 3, 1), units_per_eur=Decimal("117.200000"))
    ExchangeRateFactory(currency="RSD", date=datetime.date(2025, 3, 15), units_per_eur=Decimal("117.300000"))
    ExchangeRateFactory(currency="RSD", date=datetime.date(2025, 4, 1), units_per_eur=Decimal("117.050000"))
    return programme


@pytest.mark.django_db
class TestToTheCent:
    def test_an_items_line_total_is_quantity_times_unit_cost(self):
        assert EquipmentItem(quantity=3, unit_cost=Decimal("33.33")).line_total == Decimal("99.99")

    def test_line_amounts_are_quantity_times_unit_cost_exactly(self, world, dinar):
        app = world.application(
            programme=dinar, approved=True, items=[("Beehives", 10, "0.10"), ("Extractor", 3, "0.20")]
        )
        hives, extractor = app.items.all()
        deliver(
            app,
            world.finance,
            datetime.date(2025, 3, 2),
            [
                {"item": hives.pk, "quantity": 7, "actual_unit_cost": "0.10"},
                {"item": extractor.pk, "quantity": 3, "actual_unit_cost": "0.20"},
            ],
        )
        assert sorted(DeliveryLine.objects.values_list("amount", flat=True)) == [
            Decimal("0.60"),
            Decimal("0.70"),
        ]
        row = reports.budget_report(world.finance, reports.ReportFilters(programme=dinar.pk))["results"][0]
        assert row["delivered"] == Decimal("1.30")  # 0.1 × 7 + 0.2 × 3, not 1.2999999999999998
        assert ledger.application_ledger(app)["delivered"] == Decimal("1.30")

    def test_large_amounts_keep_their_cents(self, world, dinar):
        app = world.application(programme=dinar, approved=True, items=[("Tractors", 7, "123456789.01")])
        deliver(
            app,
            world.finance,
            datetime.date(2025, 3, 2),
            [{"item": app.items.get().pk, "quantity": 7, "actual_unit_cost": "123456789.01"}],
        )
        row = reports.budget_report(world.finance, reports.ReportFilters(programme=dinar.pk))["results"][0]
        assert row["delivered"] == row["committed"] == Decimal("864197523.07")
        assert row["remaining"] == Decimal("900000000000.00") - Decimal("864197523.07")

    def test_eur_is_rounded_half_up_to_the_cent(self, world, dinar):
        # 588.93 / 117.2 = 5.025 exactly: half up gives 5.03 (banker's rounding 5.02).
        app = world.application(programme=dinar, approved=True, items=[("Oven", 2, "588.93")])
        oven = app.items.get()
        deliver(
            app,
            world.finance,
            datetime.date(2025, 3, 2),
            [{"item": oven.pk, "quantity": 1, "actual_unit_cost": "588.93"}],
        )
        assert DeliveryLine.objects.get().amount_eur == Decimal("5.03")

    @pytest.mark.parametrize("bad", ["12.345", "-1.00", "NaN", "Infinity", "1e12", "twelve", ""])
    def test_bad_amounts_are_refused_and_record_nothing(self, world, bad):
        app = world.application(approved=True)
        with pytest.raises(ServiceError):
            deliver(
                app,
                world.finance,
                datetime.date(2025, 3, 2),
                [{"item": app.items.first().pk, "quantity": 1, "actual_unit_cost": bad}],
            )
        assert not Delivery.objects.exists()


@pytest.mark.django_db
class TestConversion:
    @pytest.mark.parametrize(
        ("delivered_on", "rate", "eur"),
        [
            # The latest rate published on or before the delivery date.
            (datetime.date(2025, 3, 14), Decimal("117.200000"), Decimal("853.24")),
            (datetime.date(2025, 3, 15), Decimal("117.300000"), Decimal("852.51")),
            (datetime.date(2025, 3, 31), Decimal("117.300000"), Decimal("852.51")),
            (datetime.date(2025, 4, 1), Decimal("117.050000"), Decimal("854.34")),
        ],
    )
    def test_rsd_to_eur_at_the_delivery_dates_rate(self, world, dinar, delivered_on, rate, eur):
        app = world.application(programme=dinar, approved=True, items=[("Greenhouse", 1, "100000.00")])
        deliver(
            app,
            world.finance,
            delivered_on,
            [{"item": app.items.get().pk, "quantity": 1, "actual_unit_cost": "100000.00"}],
        )
        line = DeliveryLine.objects.get()
        assert (line.units_per_eur, line.amount, line.amount_eur) == (rate, Decimal("100000.00"), eur)

    def test_a_rate_loaded_later_does_not_change_what_was_recorded(self, world, dinar):
        app = world.application(programme=dinar, approved=True, items=[("Greenhouse", 1, "100000.00")])
        deliver(
            app,
            world.finance,
            datetime.date(2025, 3, 20),
            [{"item": app.items.get().pk, "quantity": 1, "actual_unit_cost": "100000.00"}],
        )
        ExchangeRateFactory(
            currency="RSD", date=datetime.date(2025, 3, 20), units_per_eur=Decimal("120.000000")
        )
        assert DeliveryLine.objects.get().amount_eur == Decimal("852.51")
        assert reports.impact_figures(world.finance)["investment_eur"] == Decimal("852.51")

    def test_without_a_rate_nothing_is_recorded(self, world, dinar):
        app = world.application(programme=dinar, approved=True, items=[("Greenhouse", 1, "100000.00")])
        with pytest.raises(ServiceError) as excinfo:
            deliver(
                app,
                world.finance,
                datetime.date(2025, 2, 28),
                [{"item": app.items.get().pk, "quantity": 1, "actual_unit_cost": "100000.00"}],
            )
        assert excinfo.value.code == "no_rate"
        assert "RSD" in str(excinfo.value.message) and "2025-02-28" in str(excinfo.value.message)
        assert not Delivery.objects.exists()
        assert not AuditEvent.objects.filter(action="delivery").exists()

    def test_a_euro_programme_needs_no_rate(self, world):
        app = world.application(approved=True)
        deliver(
            app,
            world.finance,
            datetime.date(2025, 3, 2),
            [{"item": app.items.first().pk, "quantity": 1, "actual_unit_cost": "619.99"}],
        )
        line = DeliveryLine.objects.get()
        assert (line.units_per_eur, line.amount_eur) == (Decimal("1"), Decimal("619.99"))


class TestAtTheBoundary:
    """The ceiling and the budget to the cent: exactly at the limit is allowed, one cent
    over is not (each application asks for 1,100.00)."""

    def refused(self, app, name, by):
        with pytest.raises(RuleNotMet) as excinfo:
            services.take_transition(application=app, name=name, by=by)
        return [code for code, _message in excinfo.value.rules]

    def test_a_request_exactly_at_the_ceiling_is_submitted(self, world):
        world.programme.ceiling = Decimal("1100.00")
        world.programme.save()
        app = services.take_transition(application=world.application(), name="submit", by=world.applicant)
        assert (app.state, app.requested_total) == ("submitted", Decimal("1100.00"))

    def test_a_request_one_cent_over_the_ceiling_is_refused(self, world):
        world.programme.ceiling = Decimal("1099.99")
        world.programme.save()
        assert self.refused(world.application(), "submit", world.applicant) == ["within_ceiling"]

    def test_an_approval_that_uses_exactly_what_is_left(self, world):
        world.application(approved=True, applicant=ApplicantFactory(centre=world.centre))
        world.programme.budget = Decimal("2200.00")
        world.programme.save()
        assert world.programme.remaining_budget() == Decimal("1100.00")
        app = services.take_transition(
            application=world.application(ready=True), name="approve", by=world.manager
        )
        assert (app.state, app.approved_amount) == ("approved", Decimal("1100.00"))
        assert world.programme.remaining_budget() == Decimal("0.00")

    def test_an_approval_one_cent_more_than_what_is_left_is_refused(self, world):
        world.application(approved=True, applicant=ApplicantFactory(centre=world.centre))
        world.programme.budget = Decimal("2199.99")
        world.programme.save()
        app = world.application(ready=True)
        assert self.refused(app, "approve", world.manager) == ["budget_left"]
        assert not Commitment.objects.filter(application=app).exists()
        assert world.programme.remaining_budget() == Decimal("1099.99")

    def test_a_settled_grant_leaves_what_its_equipment_did_not_cost(self, world):
        """Delivered for 1,070.00 against 1,100.00 approved: 30.00 goes back to the
        budget, so exactly the next 1,100.00 is left."""
        settled = world.application(approved=True, applicant=ApplicantFactory(centre=world.centre))
        first, second = settled.items.all()
        for item, cost in ((first, "600.00"), (second, "470.00")):
            deliver(
                settled,
                world.finance,
                datetime.date.today(),
                [{"item": item.pk, "quantity": 1, "actual_unit_cost": cost}],
                invoice=f"INV-{item.pk}",
            )
        upload_handover_protocol(settled, world.finance)  # signed after the handover
        world.programme.budget = Decimal("2170.00")
        world.programme.save()
        settled.refresh_from_db()
        assert settled.state == "equipment_delivered"
        assert world.programme.remaining_budget() == Decimal("1100.00")
        app = services.take_transition(
            application=world.application(ready=True), name="approve", by=world.manager
        )
        assert app.state == "approved"


# ---- no float in money code ---------------------------------------------------------


def money_names():
    """Every money field of the three apps (the MONEY decimal spec), the exchange rate,
    and the report's money figures."""
    names = {"units_per_eur", "investment_eur", "committed", "delivered", "delivered_eur", "remaining"}
    for model in django_apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.DecimalField) and (field.max_digits, field.decimal_places) == (
                MONEY["max_digits"],
                MONEY["decimal_places"],
            ):
                names.add(field.name)
    return names


def source_modules():
    root = Path(settings.BASE_DIR)
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(root), ast.parse(path.read_text(encoding="utf-8"))


def mentions(tree, names):
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in names:
            return True
        if isinstance(node, ast.Name) and node.id in names:
            return True
        if isinstance(node, ast.keyword) and node.arg in names:
            return True
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and set(node.value.split("__")) & names
        ):
            return True
    return False


def floats_in(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
            yield node.lineno, "float(...)"
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            yield node.lineno, repr(node.value)


def test_money_modules_hold_no_float():
    names = money_names()
    assert {"amount", "amount_eur", "unit_cost", "budget", "approved_amount", "monthly_revenue"} <= names
    scanned, found = [], []
    for path, tree in source_modules():
        if not mentions(tree, names):
            continue
        scanned.append(str(path))
        found += [f"{path}:{line}: {what}" for line, what in floats_in(tree)]
    assert {
        "grants/ledger.py",
        "reports/figures/budget.py",
        "reports/exports.py",
        "grants/services/finance.py",
    } <= set(scanned)
    assert found == []


def test_every_money_field_is_a_decimal():
    suspicious = ("amount", "cost", "budget", "ceiling", "revenue", "total", "eur", "price")
    fields = [
        (model.__name__, field)
        for model in django_apps.get_models()
        if model._meta.app_label in APPS
        for field in model._meta.concrete_fields
        if any(word in field.name for word in suspicious)
        and not field.name.endswith("_currency")  # a currency's code, not an amount
    ]
    assert len(fields) >= 10
    assert [f"{m}.{f.name}" for m, f in fields if not isinstance(f, models.DecimalField)] == []


def test_the_float_scan_notices_a_float():
    tree = ast.parse("amount = float(price) * 1.1")
    assert mentions(tree, {"amount"})
    assert [what for _line, what in floats_in(tree)] == ["float(...)", "1.1"]


# ---- concurrency, PostgreSQL ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvals_against_a_tight_budget_commit_one(world, monkeypatch):
    """Both approvals read the budget before either commits: the check is slowed down so
    that they overlap for sure. The programme row lock makes the second wait, and then
    see the first commitment."""
    first = world.application(ready=True)
    second = world.application(ready=True, applicant=ApplicantFactory(centre=world.centre))
    world.programme.budget = Decimal("2199.99")  # 1,100.00 each: one fits, not both
    world.programme.save()
    other_manager = staff("programme_manager", world.centre, username="manager_b")
    check = wf.BUDGET_LEFT.check

    def slow_check(application):
        answer = check(application)
        time.sleep(0.3)
        return answer

    monkeypatch.setattr(wf.BUDGET_LEFT, "check", slow_check)

    results = run_at_once(
        [
            lambda: services.take_transition(application=first, name="approve", by=world.manager),
            lambda: services.take_transition(application=second, name="approve", by=other_manager),
        ]
    )

    approved = [r for r in results if isinstance(r, GrantApplication)]
    refused = [r for r in results if isinstance(r, RuleNotMet)]
    assert len(approved) == 1 and len(refused) == 1, results
    assert [code for code, _message in refused[0].rules] == ["budget_left"]
    assert Commitment.objects.filter(status="active").count() == 1
    assert world.programme.committed_amount() == Decimal("1100.00") <= world.programme.budget
    assert AuditEvent.objects.filter(action="approve").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_officers_delivering_the_last_unit_at_once_record_it_once(world):
    app = world.application(approved=True, items=[("Bakery oven", 1, "1450.00")])
    oven = app.items.get()
    other_finance = staff("finance_officer", world.centre, username="finance_b")

    def delivery_by(user, invoice):
        return lambda: deliver(
            app,
            user,
            datetime.date(2025, 3, 2),
            [{"item": oven.pk, "quantity": 1, "actual_unit_cost": "1400.00"}],
            invoice,
        )

    results = run_at_once([delivery_by(world.finance, "INV-A"), delivery_by(other_finance, "INV-B")])

    assert sorted(type(r).__name__ for r in results) == ["Delivery", "ServiceError"], results
    refused = next(r for r in results if isinstance(r, ServiceError))
    assert "0 still to deliver" in str(refused.message)
    assert DeliveryLine.objects.count() == 1
    assert Delivery.objects.count() == 1
    entry = ledger.application_ledger(GrantApplication.objects.get(pk=app.pk))
    assert (entry["delivered"], entry["variance"]) == (Decimal("1400.00"), Decimal("-50.00"))


class TestParseAmount:
    """What the services take for an amount: zero and whole cents, nothing below zero,
    no third decimal place, nothing at or above the limit."""

    @pytest.mark.parametrize(
        ("value", "amount"), [("0", "0.00"), (0, "0.00"), ("0.01", "0.01"), ("120.5", "120.50")]
    )
    def test_it_takes(self, value, amount):
        assert parse_amount(value, "amount") == Decimal(amount)

    @pytest.mark.parametrize("value", ["-0.01", "1.005", "1e12", "abc", None, "NaN", "Infinity"])
    def test_it_refuses_with_the_field_named(self, value):
        with pytest.raises(ServiceError) as refusal:
            parse_amount(value, "amount")
        assert "amount" in refusal.value.details

    def test_the_largest_amount_just_below_the_limit_is_taken(self):
        assert parse_amount("999999999999.99", "amount") == Decimal("999999999999.99")
