"""manage.py export_applicant ID --out FILE: everything about one person, as a ZIP."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from applicants import privacy
from applicants.models import Applicant


class Command(BaseCommand):
    help = "Write one applicant's data and documents (data-subject access request) to a ZIP file."

    def add_arguments(self, parser):
        parser.add_argument("applicant_id", type=int)
        parser.add_argument("--out", required=True, help="the ZIP file to write")
        parser.add_argument(
            "--by", help="username of the staff member handling the request (for the audit trail)"
        )

    def handle(self, *args, applicant_id, out, by=None, **options):
        applicant = Applicant.objects.filter(pk=applicant_id).first()
        if applicant is None:
            raise CommandError(f"No applicant with id {applicant_id}.")
        actor = None
        if by:
            actor = get_user_model().objects.filter(username=by).first()
            if actor is None:
                raise CommandError(f"No user named {by!r}.")
        try:
            with open(out, "wb") as handle:
                count = privacy.write_export(applicant, handle, by=actor, via="command")
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}") from None
        self.stdout.write(self.style.SUCCESS(f"Wrote {out}: applicant {applicant_id}, {count} document(s)."))
