"""What the walk starts from: a centre, a programme with an open call, and the staff who
work there (password `demo`, TOTP with the demo secret). Everything else is made through
the UI by the test itself."""

from decimal import Decimal

from django_otp.plugins.otp_totp.models import TOTPDevice
from fpdf import FPDF

from applicants import roles
from demo.seed import totp_key_hex

from ..factories import CentreFactory, CountryFactory, ProgrammeFactory, staff

PASSWORD = "demo"  # noqa: S105 - the demo users' password (README)


class World:
    def __init__(self):
        self.serbia = CountryFactory(code="RS", name="Serbia")
        self.centre = CentreFactory(country=self.serbia, name="Integration Centre Niš", municipality="Niš")
        self.programme = ProgrammeFactory(
            country=self.serbia,
            name="New start: equipment for returnees",
            donor="Donor Foundation",
            currency="EUR",
            budget=Decimal("50000.00"),
            ceiling=Decimal("3000.00"),
        )
        self.officer = self._staff(roles.FIELD_OFFICER, "officer", "Ana", "Jovanović")
        self.manager = self._staff(roles.PROGRAMME_MANAGER, "manager", "Milan", "Stojković")
        self.finance = self._staff(roles.FINANCE_OFFICER, "finance", "Vesna", "Ilić")
        self.auditor = self._staff(roles.AUDITOR, "auditor", "Luka", "Berisha")

    def _staff(self, role, username, first_name, last_name):
        user = staff(role, self.centre, username=username)
        user.first_name, user.last_name = first_name, last_name
        user.set_password(PASSWORD)
        user.save()
        TOTPDevice.objects.create(user=user, name="demo", key=totp_key_hex(), confirmed=True)
        return user


def pdf_file(path, title):
    """A small real PDF (uploads are checked by content, not by name)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=16)
    pdf.cell(0, 10, title)
    pdf.output(str(path))
    return path
