"""The ledger of one grant (commitment, delivery lines in the programme's currency and in
EUR, variance), its handover protocol PDF, and loading exchange rates from CSV."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from grants import handover, ledger, services
from grants.models import AuditEvent, ExchangeRate, programme_committed

from .factories import (
    ApplicantFactory,
    DeliveryFactory,
    DeliveryLineFactory,
    ExchangeRateFactory,
    ProgrammeFactory,
    staff,
)

pytestmark = pytest.mark.django_db


def deliver(app, by, on, lines, invoice="INV-1"):
    return services.record_delivery_lines(
        application=app,
        by=by,
        delivered_on=on,
        supplier="Tehno Alat d.o.o.",
        invoice_number=invoice,
        lines=lines,
    )


@pytest.fixture
def dinar_grant(world):
    """An approved grant of an RSD programme: 2 ovens at 72,540.00 and a mixer at 81,900.00."""
    programme = ProgrammeFactory(
        country=world.serbia, currency="RSD", budget=Decimal("5000000.00"), ceiling=Decimal("400000.00")
    )
    app = world.application(
        programme=programme,
        approved=True,
        items=[("Bakery oven", 2, "72540.00"), ("Dough mixer", 1, "81900.00")],
    )
    ExchangeRateFactory(currency="RSD", date=datetime.date(2025, 3, 1), units_per_eur=Decimal("117.180000"))
    ExchangeRateFactory(currency="RSD", date=datetime.date(2025, 4, 1), units_per_eur=Decimal("117.050000"))
    return app


class TestLedger:
    def test_it_lists_each_line_in_both_currencies_with_the_variance(self, world, dinar_grant):
        oven, mixer = dinar_grant.items.all()
        deliver(
            dinar_grant,
            world.finance,
            datetime.date(2025, 3, 20),
            [{"item": oven.pk, "quantity": 1, "actual_unit_cost": "70000.00"}],
        )
        deliver(
            dinar_grant,
            world.finance,
            datetime.date(2025, 4, 2),
            [{"item": mixer.pk, "quantity": 1, "actual_unit_cost": "83150.50"}],
            invoice="INV-2",
        )

        entry = ledger.application_ledger(dinar_grant)

        assert entry["currency"] == "RSD"
        assert entry["approved_amount"] == Decimal("226980.00")
        assert entry["committed"] == Decimal("226980.00")  # still approved: its commitment
        assert [c["status"] for c in entry["commitments"]] == ["active"]
        first, second = entry["lines"]
        assert (first["amount"], first["units_per_eur"], first["amount_eur"]) == (
            Decimal("70000.00"),
            Decimal("117.180000"),
            Decimal("597.37"),  # 70,000 / 117.18 = 597.3716...
        )
        assert first["variance"] == Decimal("-2540.00")
        assert (second["amount"], second["units_per_eur"], second["amount_eur"]) == (
            Decimal("83150.50"),
            Decimal("117.050000"),
            Decimal("710.38"),  # 83,150.50 / 117.05 = 710.3844...
        )
        assert second["variance"] == Decimal("1250.50")
        assert entry["delivered"] == Decimal("153150.50")
        assert entry["delivered_eur"] == Decimal("1307.75")
        assert entry["delivered_at_estimate"] == Decimal("154440.00")
        assert entry["variance"] == Decimal("-1289.50")
        assert entry["still_to_deliver_at_estimate"] == Decimal("72540.00")

    def test_a_settled_grant_counts_at_its_delivered_cost(self, world):
        app = world.application(delivered=True)
        entry = ledger.application_ledger(app)
        assert entry["committed"] == entry["delivered"] == Decimal("1100.00")
        assert entry["variance"] == entry["delivered"] - entry["approved_amount"] == Decimal("0.00")
        assert entry["still_to_deliver_at_estimate"] == Decimal("0.00")

    def test_a_grant_cancelled_after_a_partial_delivery_counts_what_was_spent(self, world):
        app = world.application(approved=True)
        DeliveryLineFactory(delivery=DeliveryFactory(application=app), actual_unit_cost=Decimal("640.00"))
        app = services.take_transition(
            application=app, name="cancel", by=world.manager, comment="Moved abroad."
        )
        entry = ledger.application_ledger(app)
        assert [c["status"] for c in entry["commitments"]] == ["released"]
        assert entry["committed"] == Decimal("640.00")
        assert entry["variance"] == Decimal("20.00")

    def test_another_grants_deliveries_stay_on_its_own_ledger(self, world):
        """Two settled grants of one programme, and a settled and an approved one of
        another programme: each ledger and each programme's committed amount holds its
        own grants only."""
        app = world.application(delivered=True)
        neighbour = world.application(
            delivered=True,
            applicant=ApplicantFactory(centre=world.centre),
            items=[("Bakery oven", 1, "1450.00")],
        )
        for trait in ("delivered", "approved"):
            world.application(
                applicant=world.person2,
                programme=world.other_programme,
                centre=world.other_centre,
                **{trait: True},
            )

        entry = ledger.application_ledger(app)
        assert {line["item"] for line in entry["lines"]} == set(app.items.values_list("pk", flat=True))
        assert (entry["committed"], entry["delivered"]) == (Decimal("1100.00"), Decimal("1100.00"))
        assert ledger.application_ledger(neighbour)["delivered"] == Decimal("1450.00")
        assert programme_committed(world.programme.pk) == Decimal("2550.00")
        assert world.programme.remaining_budget() == Decimal("97450.00")

    def test_an_approved_grant_counts_at_its_commitment_until_settled(self, world):
        app = world.application(approved=True)
        DeliveryLineFactory(delivery=DeliveryFactory(application=app), actual_unit_cost=Decimal("640.00"))
        entry = ledger.application_ledger(app)
        assert (entry["committed"], entry["delivered"]) == (Decimal("1100.00"), Decimal("640.00"))
        assert programme_committed(world.programme.pk) == Decimal("1100.00")

    def test_the_endpoint_gives_money_as_strings(self, world, api, dinar_grant):
        oven = dinar_grant.items.first()
        deliver(
            dinar_grant,
            world.finance,
            datetime.date(2025, 3, 20),
            [{"item": oven.pk, "quantity": 2, "actual_unit_cost": "72540.00"}],
        )
        response = api(world.finance).get(f"/api/v1/applications/{dinar_grant.pk}/ledger/")
        assert response.status_code == 200
        body = response.json()
        assert body["committed"] == "226980.00"
        assert body["lines"][0]["amount"] == "145080.00"
        assert body["lines"][0]["amount_eur"] == "1238.10"
        assert body["lines"][0]["units_per_eur"] == "117.180000"
        assert body["lines"][0]["delivered_on"] == "2025-03-20"
        assert body["variance"] == "0.00"

    @pytest.mark.parametrize(
        ("role", "status"), [("manager", 200), ("finance", 200), ("officer", 403), ("auditor", 403)]
    )
    def test_who_reads_a_ledger(self, world, api, role, status):
        app = world.application(approved=True)
        assert api(getattr(world, role)).get(f"/api/v1/applications/{app.pk}/ledger/").status_code == status

    def test_the_applicant_and_other_centres_do_not_read_it(self, world, api):
        app = world.application(approved=True)
        assert api(world.applicant).get(f"/api/v1/applications/{app.pk}/ledger/").status_code == 403
        prizren_finance = staff("finance_officer", world.other_centre)
        assert api(prizren_finance).get(f"/api/v1/applications/{app.pk}/ledger/").status_code == 404
        assert api(world.applicant2).get(f"/api/v1/applications/{app.pk}/ledger/").status_code == 404


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


class TestHandoverProtocol:
    def url(self, app):
        return f"/api/v1/applications/{app.pk}/handover-protocol.pdf"

    def test_it_lists_delivered_and_due_items_in_serbian(self, world, api, dinar_grant):
        oven = dinar_grant.items.first()
        deliver(
            dinar_grant,
            world.finance,
            datetime.date(2025, 3, 20),
            [{"item": oven.pk, "quantity": 2, "actual_unit_cost": "71000.00"}],
        )
        response = api(world.finance).get(self.url(dinar_grant))

        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert f"handover-protocol-{dinar_grant.pk}.pdf" in response["Content-Disposition"]
        text = pdf_text(response.content)
        assert "Zapisnik o primopredaji opreme" in text
        assert world.person.full_name in text
        assert dinar_grant.business_name in text
        assert "Bakery oven 20.03.2025 2 71.000,00 142.000,00" in text
        assert "Dough mixer * 1 81.900,00 81.900,00" in text
        assert "Ukupno 223.900,00 RSD" in text
        assert "Korisnik (ime, prezime i potpis)" in text
        assert "Za program opremu predaje (ime, prezime i potpis)" in text
        assert "/la" not in text and "primio" not in text
        assert "3, 6 i 12 meseci" in " ".join(text.split())
        event = AuditEvent.objects.filter(application=dinar_grant).order_by("-id").first()
        assert (event.action, event.actor, event.data) == (
            "handover_protocol_printed",
            world.finance,
            {"language": "sr-latn"},
        )

    @pytest.mark.parametrize(
        ("language", "title", "total"),
        [
            ("sq", "Procesverbal i dorëzimit të pajisjeve", "Gjithsej 1.100,00 EUR"),
            ("en", "Handover protocol", "Total 1,100.00 EUR"),
        ],
    )
    def test_it_speaks_the_beneficiarys_language(self, world, language, title, total):
        beneficiary = ApplicantFactory(
            centre=world.centre, language=language, first_name="Drita", last_name="Krasniqi"
        )
        app = world.application(applicant=beneficiary, approved=True)
        text = pdf_text(handover.protocol_for(application=app, by=world.officer))
        assert title in text
        assert total in text
        assert "Drita Krasniqi" in text

    def test_it_never_names_the_centre_or_target_group(self, world, api):
        app = world.application(approved=True)
        text = pdf_text(api(world.officer).get(self.url(app)).content)
        assert world.centre.name not in text
        assert "Returnee" not in text and "Povrat" not in text

    @pytest.mark.parametrize(
        ("role", "status"),
        [("officer", 200), ("finance", 200), ("manager", 200), ("auditor", 403), ("applicant", 403)],
    )
    def test_who_prints_it(self, world, api, role, status):
        app = world.application(approved=True)
        assert api(getattr(world, role)).get(self.url(app)).status_code == status

    def test_not_before_approval_and_not_for_others(self, world, api):
        draft = world.application()
        response = api(world.officer).get(self.url(draft))
        assert response.status_code == 409
        assert "approved" in response.json()["detail"]
        assert api(world.officer2).get(self.url(world.application(approved=True))).status_code == 404
        assert not AuditEvent.objects.filter(action="handover_protocol_printed").exists()

    def test_amounts_are_written_from_the_decimal_digits(self):
        assert handover.format_money(Decimal("1234567.5"), "en") == "1,234,567.50"
        assert handover.format_money(Decimal("1234567.5"), "sr-latn") == "1.234.567,50"
        assert handover.format_money(Decimal("0.05"), "sq") == "0,05"
        assert handover.format_money(Decimal("-999.99"), "en") == "-999.99"


class TestLoadRates:
    def write(self, tmp_path, text):
        path = tmp_path / "rates.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def test_it_loads_and_replaces_rates(self, db, tmp_path):
        ExchangeRateFactory(currency="RSD", date=datetime.date(2025, 3, 3), units_per_eur=Decimal("100"))
        path = self.write(
            tmp_path,
            "currency,date,units_per_eur\n"
            "RSD,2025-03-03,117.1532\n"
            "ALL,2025-03-03,98.45\n"
            "BAM,2025-03-03,1.95583\n"
            "mkd,2025-03-03,61.5\n"
            "EUR,2025-03-03,1\n",
        )
        out = io.StringIO()
        call_command("load_rates", path, stdout=out)
        assert "5 rates" in out.getvalue() and "4 new, 1 replaced" in out.getvalue()
        assert dict(ExchangeRate.objects.values_list("currency", "units_per_eur")) == {
            "RSD": Decimal("117.153200"),
            "ALL": Decimal("98.450000"),
            "BAM": Decimal("1.955830"),
            "MKD": Decimal("61.500000"),
            "EUR": Decimal("1.000000"),
        }
        event = AuditEvent.objects.get(action="exchange_rates_loaded")
        assert event.data["source"] == "rates.csv"
        assert event.data["rates"][0] == {
            "currency": "RSD",
            "date": "2025-03-03",
            "before": "100.000000",
            "after": "117.153200",
        }
        assert [r["before"] for r in event.data["rates"][1:]] == [None] * 4

    def test_loading_the_same_rates_again_changes_nothing_and_records_nothing(self, db, tmp_path):
        path = self.write(tmp_path, "currency,date,units_per_eur\nRSD,2025-03-03,117.1532\n")
        call_command("load_rates", path, stdout=io.StringIO())
        out = io.StringIO()
        call_command("load_rates", path, stdout=out)
        assert "0 new, 0 replaced, 1 unchanged" in out.getvalue()
        assert AuditEvent.objects.filter(action="exchange_rates_loaded").count() == 1

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ("RSD,2025-03-03,117.1\nUSD,2025-03-03,1.08\n", "line 3: currency 'USD'"),
            ("RSD,2025-03-03,117.1\nRSD,03.03.2025,117.2\n", "line 3: date"),
            ("RSD,2025-03-03,117,1\n", "line 2: more values than columns"),
            ("RSD,2025-03-03,-1\n", "positive"),
            ("RSD,2025-03-03,1.1234567\n", "six decimal places"),
            ("EUR,2025-03-03,1.1\n", "must be 1"),
            ("RSD,2025-03-03,117.1\nRSD,2025-03-03,117.2\n", "appears twice"),
        ],
    )
    def test_a_bad_row_loads_nothing_and_names_the_line(self, db, tmp_path, body, message):
        path = self.write(tmp_path, "currency,date,units_per_eur\n" + body)
        with pytest.raises(CommandError) as excinfo:
            call_command("load_rates", path)
        assert message in str(excinfo.value)
        assert "Nothing was loaded" in str(excinfo.value)
        assert not ExchangeRate.objects.exists()

    def test_it_says_what_is_wrong_with_the_file(self, db, tmp_path):
        with pytest.raises(CommandError, match="header must name"):
            call_command("load_rates", self.write(tmp_path, "day,value\n2025-01-01,1\n"))
        with pytest.raises(CommandError, match="Cannot read"):
            call_command("load_rates", str(tmp_path / "missing.csv"))


class TestLedgerReaders:
    """What one grant's ledger says of the programme and of a cancellation depends on who
    reads it: names for those who read names, public labels and no free text otherwise."""

    @pytest.fixture
    def cancelled(self, world):
        from .factories import CommitmentFactory

        app = world.application(approved=True)
        CommitmentFactory(application=app, release_reason="Moved abroad with the family.")
        return app

    @staticmethod
    def reason(entry):
        return next(c["release_reason"] for c in entry["commitments"] if c["status"] == "released")

    def test_a_manager_reads_the_programme_name_and_the_reason(self, world, cancelled):
        entry = ledger.application_ledger(cancelled, reader=world.manager)
        assert entry["programme_name"] == world.programme.name
        assert self.reason(entry) == "Moved abroad with the family."

    def test_finance_reads_the_public_label_and_no_reason(self, world, cancelled):
        entry = ledger.application_ledger(cancelled, reader=world.finance)
        assert entry["programme_name"] == world.programme.public_label
        assert self.reason(entry) == ""

    def test_without_a_reader_the_public_label_and_no_reason(self, world, cancelled):
        entry = ledger.application_ledger(cancelled)
        assert entry["programme_name"] == world.programme.public_label
        assert world.programme.public_label != world.programme.name
        assert self.reason(entry) == ""
