"""Narrow a programme manager, auditor or M&E officer to programmes, regional programmes
or donors: `manage.py scope_staff USERNAME [--programme ID ...] [--regional-programme ID
...] [--donor NAME ...]`; none: every
programme of their centres again (docs/permissions.md, "Scopes by programme and donor")."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from grants.services.scopes import set_programme_scope


class Command(BaseCommand):
    help = (
        "Narrow a staff member to programmes (--programme), regional programmes "
        "(--regional-programme) or donors (--donor); none: clear."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--programme", type=int, action="append", default=[])
        parser.add_argument("--regional-programme", type=int, action="append", default=[])
        parser.add_argument("--donor", action="append", default=[])

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        try:
            rows = set_programme_scope(
                user=user,
                programmes=options["programme"],
                donors=options["donor"],
                regional_programmes=options["regional_programme"],
            )
        except ServiceError as error:
            raise CommandError(str(error)) from None
        if rows:
            named = [str(p) if p else (f"regional {r}" if r else d) for p, d, r in rows]
            self.stdout.write(f"{user.username}: " + ", ".join(named))
        else:
            self.stdout.write(f"{user.username}: every programme of their centres")
