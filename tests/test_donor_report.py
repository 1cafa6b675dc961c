"""The donor period report: asked for on a page, written in the background, stored and
downloadable again; its spreadsheet and PDF hold the same numbers as the API for the
same filters, small numbers protected; who may ask for and download it; every step
audited."""

import datetime
import io
import os

import pypdfium2
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from applicants.models import Applicant, Sex
from audit.models import AuditEvent
from grants.models import Delivery
from reports import donor, services
from reports.models import Definition, DonorReport, Indicator, IndicatorTarget

from .conftest import verified_login
from .factories import ApplicantFactory, CentreFactory, CountryFactory, staff

pytestmark = pytest.mark.django_db

YEAR = 2025
PAGE = "/reports/donor/"
DOWNLOAD = "/reports/donor/download/"
IMPACT = "/api/v1/reports/impact/"
INDICATORS = "/api/v1/reports/indicators/"


def supported(world, count, *, sex=Sex.FEMALE, municipality="Niš", former_inmate=False):
    for _i in range(count):
        person = ApplicantFactory(
            centre=world.centre, sex=sex, municipality=municipality, is_former_inmate=former_inmate
        )
        app = world.application(applicant=person, delivered=True)
        Delivery.objects.filter(application=app).update(delivered_on=datetime.date(YEAR, 5, 20))


def with_indicators(world):
    row = Indicator.objects.create(
        programme=world.programme,
        code="1.1",
        name_en="Micro and small enterprises supported",
        name_sr_latn="Podržana mikro i mala preduzeća",
        name_sq="Ndërmarrje mikro dhe të vogla të mbështetura",
        definition=Definition.ENTERPRISES_SUPPORTED,
    )
    IndicatorTarget.objects.create(indicator=row, year=YEAR, value=20)
    IndicatorTarget.objects.create(indicator=row, year=YEAR, sex=Sex.FEMALE, value=8)
    return row


def logged_in(user):
    client = Client()
    verified_login(client, user)
    return client


def ask(client, world, capture, **data):
    form = {"programme": world.programme.pk, "year": YEAR, "language": "en", **data}
    with capture(execute=True):
        return client.post(PAGE, form)


def sheet_rows(workbook, title):
    return [list(row) for row in workbook[title].iter_rows(values_only=True)]


def table_of(rows, title):
    """The rows of one table of the breakdown sheet, by label, up to the blank row."""
    start = next(i for i, row in enumerate(rows) if row and row[0] == title)
    header = rows[start]
    table = {}
    for row in rows[start + 1 :]:
        if not row or row[0] is None:
            break
        table[row[0]] = dict(zip(header[1:], row[1:], strict=True))
    return table


def fetch(client, report, fmt):
    response = client.get(DOWNLOAD, {"report": report.pk, "format": fmt})
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content)


class TestTheReport:
    def test_a_year_opens_as_a_spreadsheet_with_the_apis_numbers(
        self, world, api, django_capture_on_commit_callbacks
    ):
        supported(world, 6, sex=Sex.FEMALE)
        supported(world, 5, sex=Sex.MALE)
        with_indicators(world)

        response = ask(logged_in(world.manager), world, django_capture_on_commit_callbacks)

        assert response.status_code == 302
        report = DonorReport.objects.get()
        assert (report.status, report.progress, report.date_from, report.date_to) == (
            DonorReport.Status.DONE,
            100,
            datetime.date(YEAR, 1, 1),
            datetime.date(YEAR, 12, 31),
        )
        book = load_workbook(io.BytesIO(fetch(logged_in(world.manager), report, "xlsx")))
        assert book.sheetnames == [
            "Indicators against targets",
            "Figures broken down",
            "Sex and target group",
            "Quarter by quarter",
            "Institutions supported",
            "Training without a grant",
            "Budget",
            "Definitions",
        ]
        period = {"programme": world.programme.pk, "from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"}
        by_sex = api(world.manager).get(IMPACT, {**period, "by": "sex"}).json()
        sheet = table_of(sheet_rows(book, "Figures broken down"), "Sex")
        for row in by_sex["breakdown"]:
            assert sheet[row["label"]]["Enterprises supported"] == row["enterprises_supported"]
            assert (
                sheet[row["label"]]["Families with non-cash benefits"]
                == row["families_with_non_cash_benefits"]
            )
        assert sheet["Female"]["Enterprises supported"] == 6 and sheet["Male"]["Enterprises supported"] == 5
        assert sheet["Total"]["Enterprises supported"] == by_sex["enterprises_supported"] == 11
        assert f"{sheet['Total']['Investment (EUR)']:.2f}" == by_sex["investment_eur"]

        progress = api(world.manager).get(INDICATORS, {"programme": world.programme.pk, "year": YEAR}).json()
        indicators = sheet_rows(book, "Indicators against targets")
        assert indicators[1][:6] == ["Code", "Indicator", "Definition", "Baseline", "Target", "Achieved"]
        everybody, women = progress["results"][0]["progress"]
        assert indicators[2][:6] == [
            "1.1",
            "Micro and small enterprises supported",
            "Enterprises supported",
            0,
            20,
            everybody["achieved"],
        ]
        assert indicators[3][4:6] == [8, women["achieved"]] == [8, 6]
        budget = dict(row[:2] for row in sheet_rows(book, "Budget"))
        assert budget["Currency"] == world.programme.currency
        assert {"Budget", "Committed", "Delivered", "Remaining"} <= set(budget)
        assert any(row[0] == "Jobs" for row in sheet_rows(book, "Definitions"))

    def test_the_pdf_renders_with_its_headings_and_figures(self, world, django_capture_on_commit_callbacks):
        supported(world, 6, sex=Sex.FEMALE)
        supported(world, 5, sex=Sex.MALE)
        with_indicators(world)
        ask(logged_in(world.manager), world, django_capture_on_commit_callbacks)
        content = fetch(logged_in(world.manager), DonorReport.objects.get(), "pdf")

        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
        for heading in (
            "Donor report",
            "Indicators against targets",
            "Figures broken down",
            "Enterprises supported by sex and target group",
            "Quarter by quarter",
            "Budget",
            "Definitions",
        ):
            assert heading in text, heading
        assert world.programme.name in text
        assert "Micro and small enterprises supported" in text
        assert "55 %" in text  # 11 of the target 20
        assert "01.01.2025 – 31.12.2025" in text
        document = pypdfium2.PdfDocument(content)
        assert len(document) >= 2
        image = document[0].render(scale=1).to_pil().convert("L")
        if os.environ.get("ARTIFACTS_DIR"):
            image.save(os.path.join(os.environ["ARTIFACTS_DIR"], "donor-report-page-1.png"))
        assert image.size[0] > 500
        # Ink on the page: text, table lines and the bars of the charts.
        assert sum(image.histogram()[:128]) > 5000

    def test_it_is_written_in_the_language_chosen(self, world, django_capture_on_commit_callbacks):
        supported(world, 1)
        ask(logged_in(world.manager), world, django_capture_on_commit_callbacks, language="sq")
        report = DonorReport.objects.get()
        assert report.language == "sq"
        reader = PdfReader(io.BytesIO(fetch(logged_in(world.manager), report, "pdf")))
        assert reader.trailer["/Root"]["/Lang"] == "sq"

    def test_a_municipality_of_two_former_inmates_is_protected(
        self, world, django_capture_on_commit_callbacks
    ):
        supported(world, 2, municipality="Babušnica", former_inmate=True)
        supported(world, 7, municipality="Niš")
        ask(logged_in(world.manager), world, django_capture_on_commit_callbacks)
        report = DonorReport.objects.get()
        book = load_workbook(io.BytesIO(fetch(logged_in(world.manager), report, "xlsx")))

        places = table_of(sheet_rows(book, "Figures broken down"), "Municipality")
        assert places["Babušnica"]["Enterprises supported"] == "< 5"
        # Its complement is hidden too: the total minus Niš would give it away.
        assert places["Niš"]["Enterprises supported"] == "–"
        assert places["Total"]["Enterprises supported"] == 9
        assert places["Babušnica"]["Investment (EUR)"] == "–"
        groups = table_of(sheet_rows(book, "Figures broken down"), "Target group")
        inmates = next(
            row for label, row in groups.items() if "inmate" in label.lower() or "prison" in label.lower()
        )
        assert inmates["Enterprises supported"] == "< 5"
        # Everybody is also a returnee (9, as many as the total): that group is hidden,
        # not the total, which the other tables show anyway.
        assert groups["Total"]["Enterprises supported"] == 9
        assert [row["Enterprises supported"] for label, row in groups.items() if label != "Total"].count(
            "–"
        ) == 1
        text = "\n".join(
            p.extract_text()
            for p in PdfReader(io.BytesIO(fetch(logged_in(world.manager), report, "pdf"))).pages
        )
        assert "< 5" in text

    def test_a_failure_is_kept_on_the_report_and_nothing_is_stored(self, world, monkeypatch):
        report = DonorReport.objects.create(
            programme=world.programme,
            date_from=datetime.date(YEAR, 1, 1),
            date_to=datetime.date(YEAR, 12, 31),
            requested_by=world.manager,
        )
        monkeypatch.setattr(donor, "pdf", lambda content, language: 1 / 0)
        from reports import generation

        assert generation.generate_donor_report(report.pk) is False
        report.refresh_from_db()
        assert (report.status, report.xlsx, report.pdf) == (DonorReport.Status.FAILED, "", "")
        assert "division by zero" in report.error
        assert generation.generate_donor_report(report.pk) is False  # not claimed twice


class TestAccess:
    @pytest.mark.parametrize("role", ["manager", "finance", "auditor"])
    def test_reporting_roles_ask_for_and_download_reports(
        self, world, role, django_capture_on_commit_callbacks
    ):
        supported(world, 1)
        user = getattr(world, role)
        client = logged_in(user)
        assert client.get(PAGE).status_code == 200
        assert ask(client, world, django_capture_on_commit_callbacks).status_code == 302
        report = DonorReport.objects.get()
        assert report.requested_by == user and report.status == DonorReport.Status.DONE
        page = client.get(PAGE).content.decode()
        assert "Ready" in page and f"report={report.pk}" in page
        assert fetch(client, report, "pdf").startswith(b"%PDF")

    def test_the_auditor_reads_only_protected_figures(self, world, django_capture_on_commit_callbacks):
        supported(world, 2)
        ask(logged_in(world.manager), world, django_capture_on_commit_callbacks)
        report = DonorReport.objects.get()
        book = load_workbook(io.BytesIO(fetch(logged_in(world.auditor), report, "xlsx")))
        sex = table_of(sheet_rows(book, "Figures broken down"), "Sex")
        assert sex["Total"]["Enterprises supported"] == "< 5"
        assert sex["Female"]["Enterprises supported"] == "< 5"

    @pytest.mark.parametrize("role", ["applicant", "officer", "procurement"])
    def test_other_roles_get_403(self, world, role, django_capture_on_commit_callbacks):
        ask(logged_in(world.manager), world, django_capture_on_commit_callbacks)
        report = DonorReport.objects.get()
        client = logged_in(getattr(world, role))
        assert client.get(PAGE).status_code == 403
        assert (
            client.post(PAGE, {"programme": world.programme.pk, "year": YEAR, "language": "en"}).status_code
            == 403
        )
        assert client.get(DOWNLOAD, {"report": report.pk, "format": "pdf"}).status_code == 403
        assert DonorReport.objects.count() == 1

    def test_anonymous_is_sent_to_sign_in(self, world):
        assert Client().get(PAGE).status_code == 302

    def test_a_manager_elsewhere_neither_sees_nor_downloads_it(
        self, world, django_capture_on_commit_callbacks
    ):
        ask(logged_in(world.manager), world, django_capture_on_commit_callbacks)
        report = DonorReport.objects.get()
        elsewhere = CentreFactory(country=CountryFactory(code="MK", name="North Macedonia"))
        client = logged_in(staff("programme_manager", elsewhere))
        assert f"report={report.pk}" not in client.get(PAGE).content.decode()
        assert client.get(DOWNLOAD, {"report": report.pk, "format": "pdf"}).status_code == 404
        response = client.post(PAGE, {"programme": world.programme.pk, "year": YEAR, "language": "en"})
        assert response.status_code == 200 and DonorReport.objects.count() == 1

    @pytest.mark.parametrize(
        "data",
        [
            {"year": YEAR, "date_from": f"{YEAR}-01-01", "date_to": f"{YEAR}-03-31"},
            {"year": ""},
            {"year": "", "date_from": f"{YEAR}-05-01", "date_to": f"{YEAR}-01-01"},
            {"year": "", "date_from": "2015-01-01", "date_to": f"{YEAR}-01-01"},
            {"language": "de"},
        ],
    )
    def test_bad_input_says_why_and_changes_nothing(self, world, data, django_capture_on_commit_callbacks):
        response = ask(logged_in(world.manager), world, django_capture_on_commit_callbacks, **data)
        assert response.status_code == 200
        assert 'class="errorlist' in response.content.decode()
        assert (
            not DonorReport.objects.exists()
            and not AuditEvent.objects.filter(action__startswith="donor").exists()
        )

    def test_a_period_report(self, world, django_capture_on_commit_callbacks):
        supported(world, 1)
        ask(
            logged_in(world.manager),
            world,
            django_capture_on_commit_callbacks,
            year="",
            date_from=f"{YEAR}-04-01",
            date_to=f"{YEAR}-09-30",
        )
        report = DonorReport.objects.get()
        assert (report.date_from, report.date_to, report.status) == (
            datetime.date(YEAR, 4, 1),
            datetime.date(YEAR, 9, 30),
            DonorReport.Status.DONE,
        )
        book = load_workbook(io.BytesIO(fetch(logged_in(world.manager), report, "xlsx")))
        quarters = [row[0] for row in sheet_rows(book, "Quarter by quarter")[1:]]
        assert quarters == [f"{YEAR}, quarter 2", f"{YEAR}, quarter 3"]


class TestAudit:
    def test_asking_writing_and_downloading_are_audited(self, world, django_capture_on_commit_callbacks):
        supported(world, 1)
        ask(logged_in(world.manager), world, django_capture_on_commit_callbacks)
        report = DonorReport.objects.get()
        fetch(logged_in(world.auditor), report, "xlsx")
        events = list(
            AuditEvent.objects.filter(action__startswith="donor_report")
            .order_by("pk")
            .values_list("action", "actor", "data")
        )
        assert [(action, actor) for action, actor, _data in events] == [
            ("donor_report_requested", world.manager.pk),
            ("donor_report_generated", world.manager.pk),
            ("donor_report_downloaded", world.auditor.pk),
        ]
        assert events[0][2] == {
            "programme": world.programme.pk,
            "donor_report": report.pk,
            "from": f"{YEAR}-01-01",
            "to": f"{YEAR}-12-31",
            "language": "en",
        }
        assert events[2][2]["format"] == "xlsx"

    def test_the_files_are_stored_privately_under_generated_keys(
        self, world, django_capture_on_commit_callbacks
    ):
        ask(logged_in(world.manager), world, django_capture_on_commit_callbacks)
        report = DonorReport.objects.get()
        for key in (report.xlsx, report.pdf):
            assert key.startswith("donor-reports/") and default_storage.exists(key)
        assert Applicant.objects.count() >= 0
        assert services.donor_report_for(world.manager, report.pk) == report


class TestApi:
    URL = "/api/v1/reports/donor-reports/"

    def test_a_report_asked_for_listed_and_downloaded(self, world, api, django_capture_on_commit_callbacks):
        supported(world, 6)
        with django_capture_on_commit_callbacks(execute=True):
            response = api(world.manager).post(
                self.URL, {"programme": world.programme.pk, "year": YEAR, "language": "sq"}, format="json"
            )
        assert response.status_code == 201, response.content
        assert (response.json()["status"], response.json()["from"]) == ("queued", f"{YEAR}-01-01")
        (listed,) = api(world.auditor).get(self.URL).json()["results"]
        assert (listed["status"], listed["progress"], listed["language"]) == ("done", 100, "sq")
        response = api(world.auditor).get(listed["files"]["xlsx"])
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        assert len(book.sheetnames) == 8
        assert AuditEvent.objects.filter(action="donor_report_downloaded", actor=world.auditor).exists()

    @pytest.mark.parametrize(
        "body",
        [
            {"year": YEAR},
            {"programme": 1, "year": YEAR, "date_from": f"{YEAR}-01-01", "date_to": f"{YEAR}-02-01"},
            {"programme": 1},
            {"programme": 1, "year": YEAR, "language": "de"},
            {"programme": 1, "date_from": f"{YEAR}-05-01", "date_to": f"{YEAR}-01-01"},
        ],
    )
    def test_bad_input_is_a_400_and_nothing_is_queued(self, world, api, body):
        if body.get("programme") == 1:
            body["programme"] = world.programme.pk
        assert api(world.manager).post(self.URL, body, format="json").status_code == 400
        assert not DonorReport.objects.exists()

    def test_a_programme_elsewhere_is_not_found(self, world, api):
        elsewhere = CentreFactory(country=CountryFactory(code="MK", name="North Macedonia"))
        manager = staff("programme_manager", elsewhere)
        body = {"programme": world.programme.pk, "year": YEAR}
        assert api(manager).post(self.URL, body, format="json").status_code == 404
        assert not DonorReport.objects.exists()

    @pytest.mark.parametrize("role", ["applicant", "officer", "procurement"])
    def test_other_roles_get_403(self, world, api, role):
        client = api(getattr(world, role))
        assert client.get(self.URL).status_code == 403
        assert (
            client.post(self.URL, {"programme": world.programme.pk, "year": YEAR}, format="json").status_code
            == 403
        )
