"""Make a staff member work for a centre, or stop, in one action.

    manage.py assign_staff USERNAME CENTRE_ID [--remove] [--by USERNAME]

The staff assignment and guardian's object permission on the centre change together
(applicants.services.assign_staff / unassign_staff), so the person sees exactly the
centre's applicants, applications, cohorts, documents and visits from then on. The
change is audited; `--by` names the person on whose instruction it is done.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from applicants import services
from applicants.models import IntegrationCentre, StaffAssignment
from applicants.permissions import can_assign_staff
from applicants.selectors import centre_ids


class Command(BaseCommand):
    help = "Assign a staff member to an integration centre (or remove them with --remove)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("centre_id", help="the centre's id (see the admin's centre list)")
        parser.add_argument("--remove", action="store_true", help="stop working for the centre")
        parser.add_argument("--by", help="username recorded in the audit trail as having done it")

    def handle(self, *args, username, centre_id, remove=False, by=None, **options):
        user = self._user(username)
        by_user = self._user(by) if by else None
        try:
            centre = IntegrationCentre.objects.get(pk=int(centre_id))
        except (ValueError, IntegrationCentre.DoesNotExist):
            raise CommandError(f"No centre with id {centre_id!r}.") from None

        decision = can_assign_staff(by_user, user=user, centre=centre, remove=remove)
        if not decision:
            raise CommandError(
                str(decision.reason) if decision.visible else f"No centre with id {centre_id!r}."
            )
        works_there = StaffAssignment.objects.filter(user=user, centre=centre).exists()
        if remove:
            if not works_there and centre.pk not in centre_ids(user):
                raise CommandError(f"{user.get_username()} does not work for {centre}; nothing to remove.")
            services.unassign_staff(user=user, centre=centre, by=by_user)
            self.stdout.write(self.style.SUCCESS(f"{user.get_username()} no longer works for {centre}."))
            still_assigned = user.assigned_applications.filter(centre=centre).count()
            if still_assigned:
                self.stdout.write(
                    self.style.WARNING(
                        f"{still_assigned} application(s) of {centre} are still assigned to "
                        f"{user.get_username()}: a programme manager should reassign them."
                    )
                )
            return

        if works_there and centre.pk in centre_ids(user):
            self.stdout.write(f"{user.get_username()} already works for {centre}; nothing changed.")
            return
        services.assign_staff(user=user, centre=centre, by=by_user)
        self.stdout.write(
            self.style.SUCCESS(
                f"{user.get_username()} now works for {centre}: its applicants, applications, "
                "cohorts, documents and visits are open to them."
            )
        )

    def _user(self, username):
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
