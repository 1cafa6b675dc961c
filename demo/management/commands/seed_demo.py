from django.core.management.base import BaseCommand

from demo import seed as demo


class Command(BaseCommand):
    help = "Create the demo data (idempotent: does nothing when it is already there)."

    def handle(self, *args, **options):
        if demo.seed():
            self.stdout.write(self.style.SUCCESS("Demo data created."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")
