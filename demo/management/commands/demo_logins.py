from django.core.management.base import BaseCommand

from demo import seed as demo


class Command(BaseCommand):
    help = "Print the demo logins (demo data only)."

    def handle(self, *args, **options):
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD!r}; demo data only):")
        for username, role, where in demo.DEMO_LOGINS:
            self.stdout.write(f"  {username:<11} {role:<18} {where}")
        self.stdout.write(
            f"Staff accounts use two-factor: TOTP secret {demo.DEMO_TOTP_SECRET} (demo only), e.g.\n"
            f"  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{demo.DEMO_TOTP_SECRET}').now())\""
        )
        self.stdout.write("")
