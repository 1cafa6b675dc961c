"""`manage.py import_applicants`: paper and spreadsheet registrations, all or nothing,
with a report per row."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook

from applicants.models import Applicant, ConsentRecord, DuplicateFlag
from grants.models import AuditEvent

from .factories import ApplicantFactory

pytestmark = pytest.mark.django_db

HEADER = "first_name,last_name,date_of_birth,phone,target_groups,consent_given,household_size,language,special_consents\n"


def run(path, world, *extra):
    out = StringIO()
    call_command(
        "import_applicants",
        str(path),
        "--centre",
        str(world.centre.pk),
        "--by",
        "officer",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def run_failing(path, world, *extra):
    out = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(
            "import_applicants",
            str(path),
            "--centre",
            str(world.centre.pk),
            "--by",
            "officer",
            *extra,
            stdout=out,
        )
    return out.getvalue(), str(excinfo.value)


@pytest.fixture
def marko(world):
    return ApplicantFactory(
        centre=world.centre, first_name="Marko", last_name="Petrovic", date_of_birth=datetime.date(1990, 3, 2)
    )


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_it_imports_a_csv_and_flags_the_possible_duplicate(world, marko, tmp_path):
    path = write(
        tmp_path,
        "registrations.csv",
        HEADER
        + "Jelena,Nikolić,1985-07-09,064 765 4321,returnee,yes,4,sr-latn,return\n"
        + "Марко,Петровић,02.03.1990,,former_inmate;socially_disadvantaged,da,,,prison\n"
        + ",,,,,,,\n",
    )
    before = Applicant.objects.count()

    out = run(path, world)

    assert Applicant.objects.count() == before + 2
    jelena = Applicant.objects.get(first_name="Jelena")
    assert (jelena.phone, jelena.household_size, jelena.centre, jelena.created_by) == (
        "+381647654321",
        4,
        world.centre,
        world.officer,
    )
    assert ConsentRecord.objects.filter(applicant=jelena, recorded_by=world.officer).exists()
    cyrillic = Applicant.objects.get(first_name="Марко")
    assert cyrillic.target_groups == ["former_inmate", "socially_disadvantaged"]
    assert DuplicateFlag.objects.get(applicant=cyrillic).other == marko
    assert f"row 2: imported — Jelena Nikolić (#{jelena.pk})" in out
    assert (
        f"row 3: duplicate to decide — Марко Петровић (#{cyrillic.pk}): possible duplicate of #{marko.pk}"
        in out
    )
    assert "row 4" not in out  # blank rows are skipped
    assert "2 rows: 1 imported, 1 duplicate to decide, 0 error." in out
    event = AuditEvent.objects.get(action="applicants_imported")
    assert (event.actor, event.data["rows"], event.data["imported"]) == (world.officer, 2, 1)
    assert AuditEvent.objects.filter(action="register_applicant").count() == 2


def test_one_bad_row_imports_nothing_and_the_report_says_why(world, tmp_path):
    path = write(
        tmp_path,
        "registrations.csv",
        HEADER
        + "Jelena,Nikolić,1985-07-09,,returnee,yes,,,return\n"
        + "Dragan,Ilić,31.02.1980,,returnee,yes,,,return\n"
        + "Sanja,Ilić,1981-01-01,12,returnee,yes,,,return\n"
        + "Bojan,Ilić,1982-01-01,,tourist,yes,,\n"
        + "Ivana,Ilić,1983-01-01,,returnee,no,,,return\n",
    )
    before = Applicant.objects.count()

    with translation.override("sr-latn"):  # whatever the caller's language, the report is English
        out, error = run_failing(path, world)

    assert Applicant.objects.count() == before
    assert not AuditEvent.objects.filter(action__in=["register_applicant", "applicants_imported"]).exists()
    assert "row 2: imported — Jelena Nikolić" in out
    assert "row 3: error — date_of_birth: “31.02.1980” is not a date" in out
    assert "row 4: error — phone: This phone number has the wrong number of digits." in out
    assert "row 5: error — target_groups: “tourist” is not a target group" in out
    assert "row 6: error — consent_given: The applicant's consent is needed" in out
    assert "5 rows: 1 imported, 0 duplicate to decide, 4 error." in out
    assert error == "Nothing was imported: fix the 4 row(s) with errors and run again."


def test_a_dry_run_reports_and_saves_nothing(world, tmp_path):
    path = write(tmp_path, "registrations.csv", HEADER + "Jelena,Nikolić,1985-07-09,,returnee,yes,,,return\n")
    before = Applicant.objects.count()
    out = run(path, world, "--dry-run")
    assert "row 2: imported — Jelena Nikolić" in out
    assert "Dry run: nothing was saved." in out
    assert Applicant.objects.count() == before
    assert not AuditEvent.objects.exists()


def test_two_rows_for_one_person_flag_the_second(world, tmp_path):
    path = write(
        tmp_path,
        "registrations.csv",
        HEADER
        + "Jelena,Nikolić,1985-07-09,,returnee,yes,,,return\nJelena,Nikolic,1985-07-09,,returnee,yes,,,return\n",
    )
    out = run(path, world)
    first, second = Applicant.objects.filter(date_of_birth=datetime.date(1985, 7, 9)).order_by("pk")
    assert DuplicateFlag.objects.get(applicant=second).other == first
    assert "row 3: duplicate to decide" in out


def test_it_imports_an_xlsx_with_date_cells_and_numeric_phones(world, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "First name",
            "Last name",
            "Date of birth",
            "Phone",
            "Target groups",
            "Consent",
            "Language",
            "Special consents",
        ]
    )
    sheet.append(
        ["Arta", "Gashi", datetime.datetime(1992, 5, 17), 641234567, "Returnee", "yes", "sq", "return"]
    )
    sheet.append(["Drita", "Hoxha", datetime.date(1979, 11, 30), None, "socially disadvantaged", "po", ""])
    path = tmp_path / "registrations.xlsx"
    workbook.save(path)

    out = run(path, world)

    arta = Applicant.objects.get(first_name="Arta", last_name="Gashi")
    assert (arta.date_of_birth, arta.phone, arta.language) == (
        datetime.date(1992, 5, 17),
        "+381641234567",
        "sq",
    )
    drita = Applicant.objects.get(first_name="Drita")
    assert (drita.target_groups, drita.language) == (["socially_disadvantaged"], "sr-latn")
    assert "2 rows: 2 imported, 0 duplicate to decide, 0 error." in out


def test_a_semicolon_csv_from_excel_in_cp1250_is_read(world, tmp_path):
    path = tmp_path / "registrations.csv"
    path.write_bytes(
        "first_name;last_name;date_of_birth;target_groups;consent_given;special_consents\nĐorđe;Čavić;1.2.1970;returnee;yes;return\n".encode(
            "cp1250"
        )
    )
    _out, error = run_failing(path, world)
    assert "--encoding cp1250" in error
    run(path, world, "--encoding", "cp1250")
    assert Applicant.objects.filter(
        first_name="Đorđe", last_name="Čavić", date_of_birth=datetime.date(1970, 2, 1)
    ).exists()


def test_it_refuses_a_file_without_the_required_columns(world, tmp_path):
    path = write(tmp_path, "registrations.csv", "first_name,last_name\nJelena,Nikolić\n")
    _out, error = run_failing(path, world)
    assert error == "registrations.csv lacks the column(s): date_of_birth, target_groups, consent_given."


def test_it_refuses_an_officer_of_another_centre_and_other_file_types(world, tmp_path):
    path = write(tmp_path, "registrations.csv", HEADER + "Jelena,Nikolić,1985-07-09,,returnee,yes,,,return\n")
    with pytest.raises(CommandError, match="officer2 cannot register applicants"):
        call_command(
            "import_applicants",
            str(path),
            "--centre",
            str(world.centre.pk),
            "--by",
            "officer2",
            stdout=StringIO(),
        )
    other = write(tmp_path, "registrations.pdf", "%PDF")
    with pytest.raises(CommandError, match="Give a .csv or .xlsx file."):
        run(other, world)
    with pytest.raises(CommandError, match="No centre"):
        call_command(
            "import_applicants", str(path), "--centre", "Nowhere", "--by", "officer", stdout=StringIO()
        )
    assert not AuditEvent.objects.filter(action="register_applicant").exists()
