"""Escalate overdue complaints to the programme managers of their centre (the focal
point's cases to every focal point), each case once.

Run it daily (cron or a systemd timer), like `send_reminders`; running it more often, or
twice at once, escalates each case once."""

from django.core.management.base import BaseCommand

from complaints.services import escalate_overdue


class Command(BaseCommand):
    help = "Escalate complaints past their acknowledgement or resolution deadline (each once)."

    def handle(self, *args, **options):
        escalated = escalate_overdue()
        self.stdout.write(f"{escalated} complaint(s) escalated.")
