"""Retry notifications still pending (a failed send, or a worker that was down).

Run it every few minutes beside `db_worker` (cron or a systemd timer); running it more
often never sends anything twice."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from grants.tasks import send_pending


class Command(BaseCommand):
    help = "Send the notifications still pending in the outbox."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, default=5, help="Only those created at least this many minutes ago."
        )

    def handle(self, *args, **options):
        sent = send_pending(older_than=timedelta(minutes=max(options["older_than"], 0)))
        self.stdout.write(f"{sent} notification(s) sent.")
