"""Remind field officers of monitoring visits due within a week and of overdue ones.

Run it daily (cron or a systemd timer); running it more often, or twice at once, sends
each reminder once."""

from django.core.management.base import BaseCommand

from assessments.reminders import send_visit_reminders


class Command(BaseCommand):
    help = "Queue reminders for monitoring visits due within 7 days and overdue ones (each once)."

    def handle(self, *args, **options):
        queued = send_visit_reminders()
        self.stdout.write(f"{queued} reminder(s) queued.")
