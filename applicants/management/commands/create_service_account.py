from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from applicants import service_accounts
from applicants.models import IntegrationCentre
from core.errors import NotAllowed, ServiceError


class Command(BaseCommand):
    help = (
        "Create a service account for an integration, on behalf of a programme manager, and "
        "print its API key once (docs/api.md 'Service accounts')."
    )

    def add_arguments(self, parser):
        parser.add_argument("--by", required=True, help="The programme manager's username.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", required=True, choices=service_accounts.ROLES)
        parser.add_argument(
            "--centre", action="append", required=True, type=int, help="A centre id (repeat)."
        )
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--networks", default="", help="Allowed client networks, comma-separated.")

    def handle(self, *args, **options):
        by = get_user_model().objects.filter(username=options["by"], is_active=True).first()
        if by is None:
            raise CommandError(f"No active user {options['by']!r}.")
        centres = list(IntegrationCentre.objects.filter(pk__in=options["centre"]))
        if len(centres) != len(set(options["centre"])):
            raise CommandError("Unknown centre id.")
        try:
            account, key = service_accounts.create_service_account(
                by=by,
                name=options["name"],
                role=options["role"],
                centres=centres,
                days=options["days"],
                allowed_networks=options["networks"],
            )
        except (ServiceError, NotAllowed) as refused:
            raise CommandError(str(getattr(refused, "message", refused))) from None
        self.stdout.write(
            f"Service account {account.name} ({account.user.username}), until {account.expires_at:%Y-%m-%d}."
        )
        self.stdout.write(f"API key (shown only now; send it as 'Authorization: Token <key>'): {key}")
