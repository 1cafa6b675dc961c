"""manage.py erase_applicant ID --reason TEXT: pseudonymise one person (erasure request)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from applicants import privacy
from applicants.models import Applicant
from grants.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Erase one applicant by pseudonymisation: identifying details, sensitive facts, free texts and "
        "documents go; amounts, deliveries and figures stay."
    )

    def add_arguments(self, parser):
        parser.add_argument("applicant_id", type=int)
        parser.add_argument("--reason", default="Erasure requested by the data subject.")
        parser.add_argument(
            "--by", help="username of the staff member handling the request (for the audit trail)"
        )

    def handle(self, *args, applicant_id, reason, by=None, **options):
        applicant = Applicant.objects.filter(pk=applicant_id).first()
        if applicant is None:
            raise CommandError(f"No applicant with id {applicant_id}.")
        actor = None
        if by:
            actor = get_user_model().objects.filter(username=by).first()
            if actor is None:
                raise CommandError(f"No user named {by!r}.")
        try:
            result = privacy.erase_applicant(applicant=applicant, by=actor, reason=reason)
        except ServiceError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Applicant {applicant_id} pseudonymised; {result['documents_deleted']} document(s) deleted."
            )
        )
