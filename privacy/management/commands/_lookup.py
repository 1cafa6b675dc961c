"""Shared by the data-subject commands: the person asked about and who handles the request."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from applicants.models import Applicant


def add_subject_arguments(parser):
    parser.add_argument("applicant_id", type=int)
    parser.add_argument(
        "--by", help="username of the staff member handling the request (for the audit trail)"
    )


def subject_and_actor(applicant_id, by):
    applicant = Applicant.objects.filter(pk=applicant_id).first()
    if applicant is None:
        raise CommandError(f"No applicant with id {applicant_id}.")
    actor = None
    if by:
        actor = get_user_model().objects.filter(username=by).first()
        if actor is None:
            raise CommandError(f"No user named {by!r}.")
    return applicant, actor
