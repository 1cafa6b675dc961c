"""manage.py apply_retention [--dry-run]: pseudonymise applicants whose grants ended more
than RETENTION_DAYS ago, and anonymise complaints resolved that long ago. Run it daily
(cron or a scheduled task)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from complaints.services import apply_complaint_retention
from privacy import subjects


class Command(BaseCommand):
    help = "Pseudonymise applicants whose grants ended more than RETENTION_DAYS days ago."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only list who would be pseudonymised")

    def handle(self, *args, dry_run=False, **options):
        ids = subjects.apply_retention(dry_run=dry_run)
        verb = "Would pseudonymise" if dry_run else "Pseudonymised"
        listed = ", ".join(map(str, ids)) if ids else "nobody"
        self.stdout.write(
            f"{verb} {len(ids)} applicant(s) (retention {settings.RETENTION_DAYS} days): {listed}"
        )
        if not dry_run:
            self.stdout.write(f"Anonymised {apply_complaint_retention()} complaint(s) resolved before then.")
