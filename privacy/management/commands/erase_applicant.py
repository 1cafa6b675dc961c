"""manage.py erase_applicant ID --reason TEXT: pseudonymise one person (erasure request)."""

from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from privacy import subjects

from ._lookup import add_subject_arguments, subject_and_actor


class Command(BaseCommand):
    help = (
        "Erase one applicant by pseudonymisation: identifying details, sensitive facts, free texts and "
        "documents go; amounts, deliveries and figures stay."
    )

    def add_arguments(self, parser):
        add_subject_arguments(parser)
        parser.add_argument("--reason", default="Erasure requested by the data subject.")

    def handle(self, *args, applicant_id, reason, by=None, **options):
        applicant, actor = subject_and_actor(applicant_id, by)
        try:
            result = subjects.erase_applicant(applicant=applicant, by=actor, reason=reason)
        except ServiceError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Applicant {applicant_id} pseudonymised; {result['documents_deleted']} document(s) deleted."
            )
        )
