"""What other parts of the product hear about a person.

`person_erased` is sent inside the erasure's transaction (privacy.subjects.erase_applicant)
after the person's own records are pseudonymised. A part that keeps its own copy of what
was sent about a person (a form server's submission, a stored API answer) receives it and
removes that copy in the same transaction: an erasure is whole or not at all.

Arguments: `applicant` (already pseudonymised), `application_ids`, `former` (a dict of
the `first_name`, `last_name`, `phone`, `national_id` and `email` as they were), `by` (who
erased; None for retention).
"""

from django.dispatch import Signal

person_erased = Signal()
