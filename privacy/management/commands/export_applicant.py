"""manage.py export_applicant ID --out FILE: everything about one person, as a ZIP."""

from django.core.management.base import BaseCommand, CommandError

from privacy import subjects

from ._lookup import add_subject_arguments, subject_and_actor


class Command(BaseCommand):
    help = "Write one applicant's data and documents (data-subject access request) to a ZIP file."

    def add_arguments(self, parser):
        add_subject_arguments(parser)
        parser.add_argument("--out", required=True, help="the ZIP file to write")

    def handle(self, *args, applicant_id, out, by=None, **options):
        applicant, actor = subject_and_actor(applicant_id, by)
        try:
            with open(out, "wb") as handle:
                count = subjects.write_export(applicant, handle, by=actor, via="command")
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}") from None
        self.stdout.write(self.style.SUCCESS(f"Wrote {out}: applicant {applicant_id}, {count} document(s)."))
