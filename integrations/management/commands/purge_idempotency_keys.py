from django.core.management.base import BaseCommand

from integrations.idempotency import purge_expired


class Command(BaseCommand):
    help = "Forget API Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS (run daily)."

    def handle(self, *args, **options):
        self.stdout.write(f"{purge_expired()} idempotency keys purged.")
