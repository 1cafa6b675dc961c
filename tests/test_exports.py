"""CSV and XLSX exports: they hold the report's figures exactly, stream, keep memory flat
for 100,000 rows, and are given only to those who may read them."""

import csv
import datetime
import gc
import io
import tracemalloc
import zipfile
from decimal import Decimal

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import override_settings
from django.utils import timezone
from openpyxl import load_workbook

from grants.models import Delivery, DeliveryLine
from reports import exports
from reports import figures as reports

from .factories import ApplicantFactory, DeliveryFactory, DeliveryLineFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/reports"


def body_of(response):
    return b"".join(response.streaming_content)


def csv_rows(response):
    text = body_of(response).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(response):
    sheet = load_workbook(io.BytesIO(body_of(response)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    width = len(rows[0])
    # (a row's empty cells at its end are not stored: a call's row has no procurement figures)
    return [dict(zip(rows[0], (*row, *[None] * (width - len(row))), strict=True)) for row in rows[1:]]


def as_decimal(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.fixture
def some_grants(world):
    dinar = ProgrammeFactory(
        country=world.serbia, currency="RSD", budget=Decimal("5000000.00"), donor="Donor B"
    )
    world.application(approved=True)
    world.application(applicant=ApplicantFactory(centre=world.centre), delivered=True)
    world.application(
        applicant=ApplicantFactory(centre=world.centre),
        programme=dinar,
        approved=True,
        items=[("Bakery oven", 1, "129000.45")],
    )
    world.application(applicant=world.person2, programme=world.other_programme, follow_up=True)
    return dinar


class TestBudgetExport:
    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_it_holds_the_report_figures(self, world, api, some_grants, fmt):
        response = api(world.finance).get(f"{API}/budget/export.{fmt}")
        assert response.status_code == 200
        assert isinstance(response, StreamingHttpResponse)
        disposition = f'attachment; filename="budget-{timezone.localdate().isoformat()}.{fmt}"'
        assert response["Content-Disposition"] == disposition
        rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)

        report = reports.budget_report(world.finance)
        sources = []
        for programme in report["results"]:
            sources += [("programme", programme), *(("call", call) for call in programme["calls"])]
        sources += [("country", r) for r in report["by_country"]]
        sources += [("donor", r) for r in report["by_donor"]]
        expected = [
            (level, None if level == "donor" else r["country"] if level == "country" else r["id"])
            for level, r in sources
        ]
        assert [(r["level"], int(r["id"]) if r["id"] not in ("", None) else None) for r in rows] == expected
        for row, (level, source) in zip(rows, sources, strict=True):
            for key in ("budget", "committed", "delivered", "delivered_eur", "remaining"):
                assert as_decimal(row[key]) == source[key], key
            if level != "call":
                assert row["currency"] == source["currency"]
        assert {as_decimal(r["committed"]) for r in rows if r["currency"] == "RSD"} == {Decimal("129000.45")}

    def test_filters_apply_to_the_export(self, world, api, some_grants):
        rows = csv_rows(api(world.finance).get(f"{API}/budget/export.csv", {"currency": "RSD"}))
        assert {r["currency"] for r in rows} == {"RSD"}
        assert api(world.finance).get(f"{API}/budget/export.csv", {"currency": "GBP"}).status_code == 400


class TestImpactExport:
    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_it_holds_the_figures_and_the_breakdown(self, world, api, some_grants, fmt):
        with override_settings(SMALL_NUMBER_THRESHOLD=1):  # nothing is small: every figure shown
            response = api(world.manager).get(f"{API}/impact/export.{fmt}", {"by": "programme"})
        assert response.status_code == 200
        rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)

        total = reports.impact_figures(world.manager)
        breakdown = reports.impact_breakdown(world.manager, reports.NO_FILTERS, "programme")
        programme_rows = [r for r in rows if not r["group"].startswith("training_")]
        assert [r["group"] for r in programme_rows] == ["all"] + ["programme"] * len(breakdown)
        # the training without a grant follows, in rows of its own (tests/test_training_figures.py)
        assert rows[len(programme_rows)]["group"] == "training_all"
        rows = programme_rows
        for row, source in zip(rows, [total, *breakdown], strict=True):
            for key in (
                "enterprises_supported",
                "families_with_non_cash_benefits",
                "people_trained",
                "jobs_created",
            ):
                assert int(row[key]) == source[key], key
            assert as_decimal(row["investment_eur"]) == source["investment_eur"]
        assert int(rows[0]["enterprises_supported"]) == 2
        assert {row["withheld"] or "" for row in rows} == {""}

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_a_file_leaves_the_team_so_the_manager_too_has_small_numbers_protected(
        self, world, api, some_grants, fmt
    ):
        response = api(world.manager).get(f"{API}/impact/export.{fmt}", {"by": "programme"})
        rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)
        assert rows[0]["enterprises_supported"] == "< 5"
        # On screen and in the JSON the manager reads the exact two.
        assert api(world.manager).get(f"{API}/impact/").json()["enterprises_supported"] == 2

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_the_auditor_gets_small_groups_withheld_and_named(self, world, api, some_grants, fmt):
        response = api(world.auditor).get(f"{API}/impact/export.{fmt}", {"by": "programme"})
        rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)
        # Two businesses: too few to show to a role that does not see the people.
        assert rows[0]["enterprises_supported"] == "< 5"
        assert rows[0]["investment_eur"] in ("", None)
        assert "enterprises_supported" in rows[0]["withheld"].split()

    def test_an_unknown_format_is_a_404(self, world, api):
        assert api(world.manager).get(f"{API}/impact/export.pdf").status_code == 404


class TestLedgerExport:
    def test_it_lists_every_line_with_its_variance(self, world, api, some_grants):
        response = api(world.manager).get(f"{API}/ledger/export.csv")
        rows = csv_rows(response)
        lines = DeliveryLine.objects.select_related("item")
        assert len(rows) == lines.count() == 4
        by_amount = {as_decimal(r["amount"]): r for r in rows}
        for line in lines:
            row = by_amount[line.amount]
            assert as_decimal(row["amount_eur"]) == line.amount_eur
            assert as_decimal(row["variance"]) == line.amount - line.item.unit_cost * line.quantity

    def test_formulas_are_exported_as_text(self, world, api):
        app = world.application(approved=True, business_name='=HYPERLINK("http://x.test")')
        DeliveryLineFactory(delivery=DeliveryFactory(application=app, supplier="+381 shop"))
        csv_row = csv_rows(api(world.finance).get(f"{API}/ledger/export.csv"))[0]
        assert csv_row["business_name"] == '\'=HYPERLINK("http://x.test")'
        assert csv_row["supplier"] == "'+381 shop"
        xlsx_row = xlsx_rows(api(world.finance).get(f"{API}/ledger/export.xlsx"))[0]
        assert xlsx_row["business_name"] == '=HYPERLINK("http://x.test")'

    def test_the_period_filter_applies_to_the_delivery_date(self, world, api, some_grants):
        Delivery.objects.update(delivered_on=datetime.date(2025, 1, 15))
        client = api(world.finance)
        assert len(csv_rows(client.get(f"{API}/ledger/export.csv", {"to": "2025-01-14"}))) == 0
        assert len(csv_rows(client.get(f"{API}/ledger/export.csv", {"from": "2025-01-15"}))) == 4


class TestWhoExports:
    @pytest.mark.parametrize(
        ("role", "budget", "impact", "ledger"),
        [
            ("manager", 200, 200, 200),
            ("finance", 200, 200, 200),
            ("auditor", 200, 200, 403),
            ("officer", 403, 403, 403),
            ("applicant", 403, 403, 403),
        ],
    )
    def test_each_role(self, world, api, role, budget, impact, ledger):
        client = api(getattr(world, role))
        assert client.get(f"{API}/budget/export.csv").status_code == budget
        assert client.get(f"{API}/impact/export.xlsx").status_code == impact
        assert client.get(f"{API}/ledger/export.csv").status_code == ledger

    def test_a_refusal_is_json_whatever_the_client_accepts(self, world, api):
        response = api(world.auditor).get(f"{API}/ledger/export.csv", HTTP_ACCEPT="text/csv")
        assert response.status_code == 403
        assert "aggregate" in response.json()["detail"]

    def test_anonymous_gets_401(self, api):
        assert api().get(f"{API}/budget/export.csv").status_code == 401


# ---- 100,000 rows -------------------------------------------------------------------


def add_lines(delivery, item, count):
    """`count` delivery lines made by the database itself (a recursive series): a
    100,000-row table in well under a second on SQLite and PostgreSQL alike."""
    unit = "((100 + i %% 900) + (i %% 100) / 100.0)"
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
            "INSERT INTO grants_deliveryline "
            "(delivery_id, item_id, quantity, actual_unit_cost, amount, units_per_eur, amount_eur) "
            f"SELECT %s, %s, 1 + i %% 3, {unit}, {unit} * (1 + i %% 3), 1, {unit} * (1 + i %% 3) FROM n",
            [count, delivery.pk, item.pk],
        )


def peak_while_consuming(chunks):
    """Peak traced memory (bytes) while the chunks are produced and dropped, and the
    number of bytes they held."""
    gc.collect()
    tracemalloc.start()
    try:
        size = 0
        for chunk in chunks:
            size += len(chunk)
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_a_100000_row_export_streams_with_flat_memory(world, api):
    """The ledger export of 100,000 delivery lines as CSV, every allocation traced: its
    peak is that of 1,000 lines. The XLSX writer is traced from 1,000 to 10,000 lines
    (tracing 100,000 rows of XML costs most of a minute) and read back."""
    app = world.application(approved=True)
    # Finance reads the programme by its public label: one as long as a real one.
    app.programme.public_name = "Small business equipment grants, Serbia"
    app.programme.save(update_fields=["public_name"])
    delivery = DeliveryFactory(application=app)
    item = app.items.first()

    def csv_export():
        return exports.csv_chunks(exports.ledger_export(world.finance))

    def xlsx_export():
        return exports.xlsx_chunks(exports.ledger_export(world.finance))

    add_lines(delivery, item, 1_000)
    peak_csv_1k, size_csv_1k = peak_while_consuming(csv_export())
    peak_xlsx_1k, _ = peak_while_consuming(xlsx_export())
    add_lines(delivery, item, 9_000)
    peak_xlsx_10k, size_xlsx_10k = peak_while_consuming(xlsx_export())

    assert size_xlsx_10k > 512 * 1024
    assert peak_xlsx_10k < 8 * 1024 * 1024, peak_xlsx_10k
    assert peak_xlsx_10k - peak_xlsx_1k < 1024 * 1024, (peak_xlsx_1k, peak_xlsx_10k)
    response = api(world.finance).get(f"{API}/ledger/export.xlsx")
    assert isinstance(response, StreamingHttpResponse)
    content = body_of(response)
    with zipfile.ZipFile(io.BytesIO(content)).open("xl/worksheets/sheet1.xml") as sheet:
        assert sheet.read().count(b"<row ") == 10_001
    header, first = (
        load_workbook(io.BytesIO(content), read_only=True)
        .worksheets[0]
        .iter_rows(max_row=2, values_only=True)
    )
    assert header == tuple(c.name for c in exports.LEDGER_COLUMNS)
    assert first[:2] == (app.pk, app.business_name)
    assert isinstance(first[5], datetime.datetime) and first[9] == 2

    add_lines(delivery, item, 90_000)
    assert DeliveryLine.objects.count() == 100_000
    peak_csv, size_csv = peak_while_consuming(csv_export())

    # A hundred times the rows (17 MB of CSV) in the memory of 1,000 of them: what one
    # chunk of rows from the cursor takes, whatever the total.
    assert size_csv > 99 * size_csv_1k > 16 * 1024 * 1024
    assert peak_csv < 4 * 1024 * 1024, peak_csv
    assert peak_csv - peak_csv_1k < 1024 * 1024, (peak_csv_1k, peak_csv)
    response = api(world.finance).get(f"{API}/ledger/export.csv")
    assert isinstance(response, StreamingHttpResponse)
    assert next(iter(response.streaming_content)).decode("utf-8-sig").startswith("application,business_name,")
