"""The monitoring-visit XLSForm (integrations/xlsform/): the committed workbook is the
one its script writes, pyxform converts it without a warning (pyxform alone: ODK
Validate needs Java and is not run), and every question the intake reads is in it."""

import re

from openpyxl import load_workbook
from pyxform.xls2xform import convert

from integrations import kobo
from integrations.xlsform import build


def committed_rows():
    book = load_workbook(build.PATH, read_only=True)
    return {
        sheet.title: [
            ["" if value is None else value for value in row] for row in sheet.iter_rows(values_only=True)
        ]
        for sheet in book.worksheets
    }


def test_the_committed_workbook_is_the_scripts():
    assert committed_rows() == build.rows(), "run: python -m integrations.xlsform.build"


def test_pyxform_converts_it_without_warnings():
    warnings = []
    result = convert(xlsform=str(build.PATH), warnings=warnings, validate=False)
    assert warnings == []
    instance = re.search(r'<data id="monitoring_visit" version="(\d+)">(.*?)</data>', result.xform, re.S)
    assert instance and instance.group(1) == build.VERSION
    # The instance id the intake keeps each submission once by.
    assert "<meta><instanceID/></meta>" in instance.group(2)


def test_every_answer_the_intake_reads_is_a_question_of_the_form():
    xform = convert(xlsform=str(build.PATH), validate=False).xform
    read = [
        kobo.APPLICATION,
        kobo.MONTHS,
        kobo.VISITED_ON,
        kobo.OPERATING,
        kobo.EQUIPMENT_IN_USE,
        kobo.MONTHLY_REVENUE,
        kobo.NOTES,
        *kobo.JOBS.values(),
        *kobo.PHOTOS,
    ]
    for name in read:
        assert f"<{name}/>" in xform, name
    assert 'type="binary"' in xform  # photos are files
    assert xform.count('required="true()"') == 5
