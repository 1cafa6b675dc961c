"""Check the audit trail's hash chain: exit 0 when intact, 1 naming each break."""

from django.core.management.base import BaseCommand

from audit.trail import verify_chain


class Command(BaseCommand):
    help = "Verify that no audit event was edited, inserted or deleted."

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            help="a head hash printed by an earlier run (kept outside the database); it must still be in the chain",
        )

    def handle(self, *args, anchor=None, **options):
        count, head, problems = verify_chain(anchor=anchor)
        if problems:
            for problem in problems:
                self.stderr.write(self.style.ERROR(problem))
            self.stderr.write(
                self.style.ERROR(f"Audit trail BROKEN: {len(problems)} problem(s) in {count} events.")
            )
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {count} events, head {head or '(empty)'}"))
