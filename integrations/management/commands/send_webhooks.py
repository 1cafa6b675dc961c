from django.core.management.base import BaseCommand

from integrations.webhooks import send_due


class Command(BaseCommand):
    help = "Send the webhook deliveries that are due (first tries the worker missed, and retries)."

    def handle(self, *args, **options):
        self.stdout.write(f"{send_due()} webhook deliveries sent.")
