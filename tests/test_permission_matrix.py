"""One table: role × action × object → the answer, run against every API endpoint and
every web page.

Objects are seen from the caller: an applicant's `own` application, another applicant's
at the same centre, one at another centre; a staff member's `own` (an application where
they are the applicant: staff never act on it), one at their centre (`same`), one at
another centre (`other`). Every staff member works for centre A only.

Answers: a status code, `login` (302 to the sign-in page), `ok` (a web form that let
the person through: 200, 302 elsewhere than the sign-in page, or 400 with the form's
errors) or `-` (does not apply). Adding a URL without a row here fails
`test_every_url_has_a_row`.

The objects are built once for the module, inside a transaction that is rolled back at
the end; every test runs in a savepoint of its own, so a POST that succeeds changes
nothing for the next test.
"""

import copy
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient
from rest_framework.views import APIView

from applicants import roles
from applicants.models import ReferralPartner
from applicants.tokens import issue_token
from assessments.models import Enrolment
from audit import trail
from complaints import abuse
from complaints import services as complaint_services
from grants import transitions
from grants.models import (
    CaseTransfer,
    ContributionPayment,
    DeliveryLine,
    HouseholdOverride,
    PurchaseOrder,
    SupplierQuote,
)
from grants.workflow import State
from selection.models import ReserveOffer

from .conftest import verified_login
from .factories import (
    PDF_BYTES,
    ApplicantFactory,
    ApplicantSensitiveFactory,
    ApplicationFactory,
    CentreFactory,
    CountryFactory,
    DocumentFactory,
    DuplicateFlagFactory,
    ProgrammeFactory,
    SupplierFactory,
    SupplierQuoteFactory,
    TrainingCohortFactory,
    committee_member,
    iban,
    make_committee,
    make_full_delivery,
    make_training_done,
    quote_file,
    staff,
)
from .module_world import module_world, use_module_media

User = get_user_model()
TODAY = timezone.localdate()

# ---- the table ----------------------------------------------------------------------
#
# (url name, method, object, anonymous, applicant, field officer, manager, finance, auditor)
#
# object: what the URL's id names, for the application in that state of each owner:
#   an application state (draft, submitted, enrolled, ready, approved, approved_full,
#   delivered, follow_up), `person` (the owner's applicant record), `doc` (a business
#   plan of the draft), `doc_sensitive` (a release certificate of the draft), `visit`
#   (of the follow-up), `cohort` (a course at the owner's centre), `enrolled_cohort`
#   (the course the enrolled application is in), `flag` (a possible duplicate at the
#   owner's centre), `token` (an API token of the owner's login), or None (no id: one
#   answer per role).
# columns with an object: applicant "own other-applicant other-centre", officer and
#   manager "own same other", finance and auditor "same other".

A = "api:"
# fmt: off
MATRIX = [
    # -- API: lists and registration
    (A + "token", "POST", None, 400, "400", "400", "400", "400", "400"),
    # sign-out needs the token itself; the matrix signs in without one (400)
    (A + "token-revoke", "POST", None, 401, "400", "400", "400", "400", "400"),
    (A + "token", "DELETE", None, 401, "400", "400", "400", "400", "400"),
    (A + "tokens", "GET", None, 401, "200", "200", "200", "200", "200"),
    (A + "me", "GET", None, 401, "200", "200", "200", "200", "200"),
    # Webhooks belong to service accounts (tests/test_webhooks.py): people list none,
    # register none, and reach no endpoint.
    (A + "webhooks", "GET", None, 401, "200", "200", "200", "200", "200"),
    (A + "webhooks", "POST", None, 401, "403", "403", "403", "403", "403"),
    (A + "webhook", "DELETE", "webhook", 401, "404 404 404", "404 404 404", "404 404 404", "404 404", "404 404"),
    (A + "webhook-enable", "POST", "webhook", 401, "404 404 404", "404 404 404", "404 404 404", "404 404", "404 404"),
    (A + "webhook-deliveries", "GET", "webhook", 401, "404 404 404", "404 404 404", "404 404 404", "404 404", "404 404"),
    (A + "centres", "GET", None, 401, "200", "200", "200", "200", "200"),
    (A + "visits-due", "GET", None, 401, "200", "200", "200", "200", "403"),
    (A + "token-detail", "DELETE", "token", 401, "204 404 404", "204 404 404", "204 404 404", "404 404", "404 404"),
    (A + "programmes", "GET", None, 401, "200", "200", "200", "200", "200"),
    (A + "applicants", "GET", None, 401, "200", "200", "200", "403", "403"),
    (A + "applicants", "POST", None, 401, "403", "201", "403", "403", "403"),
    (A + "applicant", "GET", "person", 401, "200 404 404", "200 200 404", "200 200 404", "403 403", "403 403"),
    # institutions as grantees: read by officers and managers of their centres (an
    # applicant's list is empty), registered by field officers
    (A + "institutions", "GET", None, 401, "200", "200", "200", "403", "403", "403"),
    (A + "institutions", "POST", None, 401, "403", "201", "403", "403", "403", "403"),
    (A + "applications", "GET", None, 401, "200", "200", "200", "200", "403"),
    (A + "applications", "POST", "person", 401, "201 400 400", "403 201 400", "403 403 400", "400 400", "403 403"),
    # the channels for news: the person, or a field officer of their centre
    (A + "applicant-channels", "PUT", "person", 401, "200 404 404", "200 200 404", "200 403 404", "403 403", "403 403"),
    (A + "applicant-possible-duplicates", "POST", None, 401, "403", "200", "403", "403", "403"),
    (A + "applicant-duplicates", "GET", None, 401, "200", "200", "200", "200", "200"),
    (A + "applicant-duplicate-decision", "POST", "flag", 401, "404 404 404", "200 200 404", "200 200 404", "403 404", "403 404"),
    (A + "cohorts", "GET", None, 401, "200", "200", "200", "200", "403"),
    (A + "cohorts", "POST", None, 401, "400", "201", "403", "403", "403"),
    # -- API: one application
    (A + "application", "GET", "draft", 401, "200 404 404", "200 200 404", "200 200 404", "200 404", "403 403"),
    (A + "application", "PATCH", "draft", 401, "200 404 404", "403 200 404", "403 403 404", "403 404", "403 403"),
    (A + "application-transitions", "GET", "draft", 401, "200 404 404", "200 200 404", "200 200 404", "200 404", "403 403"),
    (A + "application-history", "GET", "draft", 401, "200 404 404", "200 200 404", "200 200 404", "200 404", "403 403"),
    (A + "application-documents", "GET", "draft", 401, "200 404 404", "200 200 404", "200 200 404", "200 404", "403 403"),
    (A + "application-documents", "POST", "draft", 401, "201 404 404", "403 201 404", "403 403 404", "201 404", "403 403"),
    (A + "document-download", "GET", "doc", 401, "200 404 404", "200 200 404", "200 200 404", "200 404", "403 403"),
    (A + "document-download", "GET", "doc_sensitive", 401, "200 404 404", "200 200 404", "200 200 404", "404 404", "403 403"),
    (A + "application-certificate", "GET", "ready", 401, "200 404 404", "200 200 404", "200 200 404", "403 404", "403 403"),
    (A + "application-assessment", "GET", "ready", 401, "200 404 404", "200 200 404", "200 200 404", "200 404", "403 403"),
    (A + "application-assessment", "POST", "submitted", 401, "403 404 404", "403 201 404", "403 403 404", "403 404", "403 403"),
    (A + "application-deliveries", "GET", "approved_full", 401, "200 404 404", "200 200 404", "200 200 404", "200 404", "403 403"),
    (A + "application-deliveries", "POST", "approved", 401, "403 404 404", "403 201 404", "403 403 404", "201 404", "403 403"),
    (A + "application-visits", "GET", "follow_up", 401, "200 404 404", "200 200 404", "200 200 404", "200 404", "403 403"),
    (A + "visit-record", "POST", "visit", 401, "403 404 404", "403 200 404", "403 403 404", "403 404", "403 403"),
    (A + "approvals", "GET", None, 401, "403", "403", "200", "403", "403"),
    (A + "cohort-enrollments", "POST", "cohort", 401, "404 404 404", "403 201 404", "403 403 404", "404 404", "403 403"),
    (A + "cohort-attendance", "POST", "enrolled_cohort", 401, "404 404 404", "403 201 404", "403 403 404", "404 404", "403 403"),
    (A + "cohort-attendance-sheet", "POST", "enrolled_cohort", 401, "404 404 404", "403 201 404", "403 403 404", "404 404", "403 403"),
    # (training without a grant, issue 21: the programme counts no one without a name: 409)
    (A + "cohort-headcounts", "GET", "cohort", 401, "404 404 404", "200 200 404", "200 200 404", "404 404", "403 403"),
    (A + "cohort-headcounts", "POST", "cohort", 401, "404 404 404", "409 409 404", "403 403 404", "404 404", "403 403"),
    (A + "meetings", "GET", None, 401, "200", "200", "200", "200", "403"),
    (A + "meetings", "POST", None, 401, "400", "201", "403", "403", "403"),
    (A + "enrolment-certificate", "GET", "direct_enrolment", 401, "404 404 404", "400 400 404", "400 400 404", "404 404", "403 403"),
    (A + "referral-institutions", "GET", None, 401, "403", "200", "200", "403", "403"),
    (A + "application-ledger", "GET", "approved_full", 401, "403 404 404", "403 403 404", "200 200 404", "200 404", "403 403"),
    (A + "application-household-override", "GET", "ready", 401, "403 404 404", "403 403 404", "200 200 404", "403 404", "403 403"),
    (A + "application-household-override", "POST", "submitted", 401, "403 404 404", "403 403 404", "403 201 404", "403 404", "403 403"),
    (A + "application-handover-protocol", "GET", "approved", 401, "403 404 404", "403 200 404", "403 200 404", "200 404", "403 403"),
    # -- API: the grant contract (printed as the handover protocol; payments by finance
    #    and managers, the registration by field officers)
    (A + "application-contract", "GET", "approved", 401, "403 404 404", "403 200 404", "403 200 404", "200 404", "403 403"),
    (A + "application-contract-pdf", "GET", "approved", 401, "403 404 404", "403 200 404", "403 200 404", "200 404", "403 403"),
    (A + "application-contributions", "GET", "approved", 401, "403 404 404", "403 200 404", "403 200 404", "200 404", "403 403"),
    (A + "application-contributions", "POST", "approved", 401, "403 404 404", "403 403 404", "403 201 404", "201 404", "403 403"),
    (A + "contribution-reversal", "POST", "payment", 401, "403 404 404", "403 403 404", "403 201 404", "201 404", "403 403"),
    (A + "application-registration", "PUT", "approved", 401, "403 404 404", "403 200 404", "403 403 404", "403 404", "403 403"),
    (A + "delivery-handover-protocol", "GET", "approved_full", 401, "403 404 404", "403 200 404", "403 200 404", "200 404", "403 403"),
    (A + "application-cost-reapprovals", "GET", "approved", 401, "403 404 404", "403 403 404", "200 200 404", "200 404", "403 403"),
    (A + "application-cost-reapprovals", "POST", "approved", 401, "403 404 404", "403 403 404", "403 201 404", "403 404", "403 403"),
    # -- API: the audit trail (the auditor's without personal data)
    (A + "audit-events", "GET", None, 401, "403", "200", "200", "403", "200"),
    # -- API: reports (aggregates; row-level money only for finance and managers)
    (A + "report-impact", "GET", None, 401, "403", "403", "200", "200", "200"),
    (A + "report-impact-export", "GET", None, 401, "403", "403", "200", "200", "200"),
    (A + "report-budget", "GET", None, 401, "403", "403", "200", "200", "200"),
    (A + "report-budget-export", "GET", None, 401, "403", "403", "200", "200", "200"),
    # (without ?programme= a reporting role is told it is required)
    (A + "report-indicators", "GET", None, 401, "403", "403", "400", "400", "400"),
    # (asked for without a programme: 400; downloaded without ?report=: 404)
    (A + "donor-reports", "GET", None, 401, "403", "403", "200", "200", "200"),
    (A + "donor-reports", "POST", None, 401, "403", "403", "400", "400", "400"),
    (A + "donor-report-download", "GET", None, 401, "403", "403", "404", "404", "404"),
    (A + "report-ledger-export", "GET", None, 401, "403", "403", "200", "200", "403"),
    # -- API: transfer of a case (a manager moves a person of the centre; a field officer
    #    of the receiving centre asks, the sending centre confirms or declines); "transfer"
    #    is a request to move the owner (R: another person of centre B) to the other centre
    (A + "applicant-transfer", "POST", "person", 401, "404 404 404", "403 403 404", "403 201 404", "404 404", "404 404", "404 404"),
    (A + "transfers", "GET", None, 401, "403", "200", "200", "403", "403", "403"),
    (A + "transfers", "POST", "person", 401, "403 403 403", "400 400 201", "403 403 403", "403 403", "403 403", "403 403"),
    (A + "transfer-confirm", "POST", "transfer", 401, "404 404 404", "403 200 403", "403 200 403", "404 404", "404 404", "404 404"),
    (A + "transfer-decline", "POST", "transfer", 401, "404 404 404", "403 200 403", "403 200 403", "404 404", "404 404", "404 404"),
    # -- API: referral partners (an officer records who referred the person; the
    #    partner's own list: tests/test_referrals.py)
    (A + "applicant-referral", "PUT", "person", 401, "404 404 404", "403 200 404", "403 403 404", "404 404", "404 404", "404 404"),
    (A + "referrals", "GET", None, 401, "403", "403", "403", "403", "403", "403"),
    # -- web: accounts and public pages
    ("healthz", "GET", None, 200, "200", "200", "200", "200", "200"),
    ("login", "GET", None, 200, "302", "302", "302", "302", "302"),
    ("logout", "POST", None, 302, "302", "302", "302", "302", "302"),
    ("otp-verify", "GET", None, "login", "ok", "ok", "ok", "ok", "ok"),
    ("otp-setup", "GET", None, "login", "ok", "ok", "ok", "ok", "ok"),
    ("password_change", "GET", None, "login", "200", "200", "200", "200", "200"),
    ("password_change_done", "GET", None, "login", "200", "200", "200", "200", "200"),
    ("device-list", "GET", None, "login", "200", "200", "200", "200", "200"),
    ("device-revoke", "POST", "token", "login", "ok 404 404", "ok 404 404", "ok 404 404", "404 404", "404 404"),
    ("signup", "GET", None, 200, "ok", "ok", "ok", "ok", "ok"),
    ("home", "GET", None, "login", "302", "302", "302", "302", "302"),
    # -- web: applicants
    ("my-applications", "GET", None, "login", "200", "403", "403", "403", "403"),
    # (the person's own consents: staff have none, and no such page)
    ("consent-renew", "GET", None, "login", "200", "404", "404", "404", "404"),
    ("consent-renew", "POST", None, "login", "400", "404", "404", "404", "404"),
    ("applicant-list", "GET", None, "login", "403", "200", "200", "403", "403"),
    ("applicant-register", "GET", None, "login", "403", "200", "403", "403", "403"),
    ("applicant-register", "POST", None, "login", "403", "ok", "403", "403", "403"),
    ("duplicate-list", "GET", None, "login", "403", "200", "200", "403", "403"),
    ("institution-list", "GET", None, "login", "403", "200", "200", "403", "403", "403"),
    ("institution-register", "GET", None, "login", "403", "200", "403", "403", "403", "403"),
    ("institution-register", "POST", None, "login", "403", "ok", "403", "403", "403", "403"),
    ("duplicate-decide", "POST", "flag", "login", "403 403 403", "ok ok 404", "ok ok 404", "403 403", "403 403"),
    ("applicant-export", "GET", "person", "login", "404 404 404", "403 403 404", "200 200 404", "404 404", "404 404"),
    # -- API: the change feed (as the audit trail), the form intake (service accounts
    #    only: a person's token is refused), the offline field app (field officers)
    (A + "changes", "GET", None, 401, "403", "200", "200", "403", "200", "403"),
    (A + "intake-kobo", "POST", None, 401, "403", "403", "403", "403", "403", "403"),
    # (the list is filtered in the database: empty for whoever reads none)
    (A + "intake-submissions", "GET", None, 401, "200", "200", "200", "200", "200", "200"),
    # ("submission": a number no submission has: not found, for every role)
    (A + "intake-submission-reapply", "POST", "submission", 401, "404 404 404", "404 404 404", "404 404 404", "404 404", "404 404", "404 404"),
    (A + "intake-submission-dismiss", "POST", "submission", 401, "404 404 404", "404 404 404", "404 404 404", "404 404", "404 404", "404 404"),
    (A + "field-pack", "GET", None, 401, "403", "200", "403", "403", "403", "403"),
    (A + "field-session", "GET", None, 401, "403", "200", "403", "403", "403", "403"),
    (A + "field-sync", "POST", None, 401, "403", "400", "403", "403", "403", "403"),
    # -- web: the offline field app, its worker and manifest (public files, no data)
    ("field-home", "GET", None, "login", "403", "200", "403", "403", "403", "403"),
    ("field-visit", "GET", None, "login", "403", "200", "403", "403", "403", "403"),
    ("field-attendance", "GET", None, "login", "403", "200", "403", "403", "403", "403"),
    ("field-register", "GET", None, "login", "403", "200", "403", "403", "403", "403"),
    ("service-worker", "GET", None, "200", "200", "200", "200", "200", "200", "200"),
    ("web-manifest", "GET", None, "200", "200", "200", "200", "200", "200", "200"),
    # -- web: form submissions refused at intake, for the centre's officers and managers
    ("intake-submission-list", "GET", None, "login", "403", "200", "200", "403", "403", "403"),
    ("intake-submission-detail", "GET", "submission", "login", "403 403 403", "404 404 404", "404 404 404", "403 403", "403 403", "403 403"),
    ("intake-submission-reapply-page", "POST", "submission", "login", "403 403 403", "404 404 404", "404 404 404", "403 403", "403 403", "403 403"),
    ("intake-submission-dismiss-page", "POST", "submission", "login", "403 403 403", "404 404 404", "404 404 404", "403 403", "403 403", "403 403"),
    # -- web: transfer of a case (the same rules as the API rows above)
    ("transfer-list", "GET", None, "login", "403", "200", "200", "403", "403", "403"),
    ("transfer-request", "POST", "person", "login", "403 403 403", "400 400 302", "403 403 403", "403 403", "403 403", "403 403"),
    ("transfer-decide", "POST", "transfer", "login", "403 403 403", "403 302 403", "403 302 403", "403 403", "403 403", "403 403"),
    ("person-move", "GET", "person", "login", "403 403 403", "403 403 403", "403 200 404", "403 403", "403 403", "403 403"),
    ("person-move", "POST", "person", "login", "403 403 403", "403 403 403", "403 302 404", "403 403", "403 403", "403 403"),
    # -- web: applications
    ("inbox", "GET", None, "login", "403", "200", "200", "403", "403"),
    ("application-new", "GET", "person", "login", "200 200 200", "403 200 404", "403 403 403", "404 404", "404 404"),
    ("application-detail", "GET", "draft", "login", "200 404 404", "200 200 404", "200 200 404", "200 404", "404 404"),
    ("application-edit", "GET", "draft", "login", "200 404 404", "403 200 404", "403 403 404", "403 404", "404 404"),
    ("application-edit", "POST", "draft", "login", "ok 404 404", "403 ok 404", "403 403 404", "403 404", "404 404"),
    ("application-channels", "POST", "draft", "login", "ok 404 404", "ok ok 404", "ok 403 404", "403 404", "404 404"),
    # the SMS provider's callbacks: nobody signed in gets through without the signature
    ("sms-delivery-report", "POST", None, 403, "403", "403", "403", "403", "403"),
    ("sms-inbound", "POST", None, 403, "403", "403", "403", "403", "403"),
    ("application-step", "POST", "draft", "login", "ok 404 404", "403 ok 404", "403 403 404", "403 404", "404 404"),
    ("application-reassign", "POST", "draft", "login", "403 403 403", "403 403 403", "403 ok 404", "403 403", "403 403"),
    ("application-household-override", "POST", "submitted", "login", "403 403 403", "403 403 403", "403 ok 404", "403 403", "403 403"),
    ("application-cooperative", "POST", "draft", "login", "ok 404 404", "403 ok 404", "403 403 404", "403 404", "404 404"),
    ("application-member-add", "POST", "draft", "login", "ok 404 404", "403 ok 404", "403 403 404", "403 404", "404 404"),
    ("application-member-remove", "POST", "draft", "login", "ok 404 404", "403 ok 404", "403 403 404", "403 404", "404 404"),
    ("document-upload", "POST", "draft", "login", "ok 404 404", "403 ok 404", "403 403 404", "ok 404", "404 404"),
    ("document-download-page", "GET", "doc", "login", "200 404 404", "200 200 404", "200 200 404", "200 404", "404 404"),
    ("document-download-page", "GET", "doc_sensitive", "login", "200 404 404", "200 200 404", "200 200 404", "404 404", "404 404"),
    ("delivery-new", "GET", "approved", "login", "403 403 403", "403 200 404", "403 403 403", "200 404", "403 403"),
    ("application-ledger-page", "GET", "approved_full", "login", "403 403 403", "403 403 403", "200 200 404", "200 404", "403 403"),
    ("contribution-new-page", "POST", "approved", "login", "403 403 403", "403 403 403", "403 ok 404", "ok 404", "403 403"),
    ("contribution-reverse-page", "POST", "payment", "login", "403 403 403", "403 403 403", "403 ok 404", "ok 404", "403 403"),
    ("registration-page", "POST", "approved", "login", "403 403 403", "403 ok 404", "403 403 403", "403 403", "403 403"),
    ("application-cost-reapproval", "GET", "approved", "login", "403 403 403", "403 403 403", "403 200 404", "403 403", "403 403"),
    # -- web: training, assessment, visits
    ("cohort-list", "GET", None, "login", "403", "200", "200", "403", "403"),
    ("cohort-new", "GET", None, "login", "403", "200", "403", "403", "403"),
    ("cohort-detail", "GET", "cohort", "login", "403 403 403", "200 200 404", "200 200 404", "403 403", "403 403"),
    ("cohort-attendance", "POST", "enrolled_cohort", "login", "403 403 403", "403 ok 404", "403 403 403", "403 403", "403 403"),
    ("cohort-enrol", "POST", "cohort", "login", "403 403 403", "403 ok 404", "403 403 403", "403 403", "403 403"),
    # (the officer's own record is not among those offered: 400)
    ("cohort-enrol-person", "POST", "cohort", "login", "403 403 403", "400 ok 404", "403 403 403", "403 403", "403 403"),
    ("cohort-headcount", "POST", "cohort", "login", "403 403 403", "ok ok 404", "403 403 403", "403 403", "403 403"),
    ("enrolment-certificate", "GET", "direct_enrolment", "login", "403 403 403", "ok ok 404", "ok ok 404", "403 403", "403 403"),
    ("meeting-list", "GET", None, "login", "403", "200", "200", "403", "403"),
    ("meeting-new", "GET", None, "login", "403", "200", "403", "403", "403"),
    ("referral-review", "POST", "draft", "login", "403 403 403", "403 403 403", "ok ok 404", "403 403", "403 403"),
    ("application-enrol", "POST", "submitted", "login", "403 403 403", "403 ok 404", "403 403 403", "403 403", "403 403"),
    # (the forms show; saving one on your own application is refused)
    ("assessment-form", "GET", "submitted", "login", "403 403 403", "200 200 404", "403 403 403", "403 403", "403 403"),
    ("assessment-form", "POST", "submitted", "login", "403 403 403", "403 ok 404", "403 403 403", "403 403", "403 403"),
    ("visit-form", "GET", "visit", "login", "403 403 403", "200 200 404", "403 403 403", "403 403", "403 403"),
    ("visit-form", "POST", "visit", "login", "403 403 403", "403 ok 404", "403 403 403", "403 403", "403 403"),
    # -- web: manager, finance, dashboard
    ("approvals", "GET", None, "login", "403", "403", "200", "403", "403"),
    ("programme-list", "GET", None, "login", "403", "403", "200", "200", "200"),
    ("audit-trail", "GET", None, "login", "403", "200", "200", "403", "200"),
    ("finance-budget", "GET", None, "login", "403", "403", "200", "200", "403"),
    ("finance-deliveries", "GET", None, "login", "403", "403", "200", "200", "403"),
    ("finance-commitments", "GET", None, "login", "403", "403", "200", "200", "403"),
    ("finance-assets", "GET", None, "login", "403", "403", "200", "200", "403"),
    ("dashboard", "GET", None, "login", "403", "403", "200", "200", "200"),
    ("indicator-progress", "GET", None, "login", "403", "403", "200", "200", "200"),
    ("donor-reports", "GET", None, "login", "403", "403", "200", "200", "200"),
    ("donor-reports", "POST", None, "login", "403", "403", "ok", "ok", "ok"),
    # (without ?report= nothing is found; tests/test_donor_report.py downloads real ones)
    ("donor-report-download", "GET", None, "login", "403", "403", "404", "404", "404"),
    # -- procurement (rows with a sixth column: the procurement officer's answers)
    (A + "suppliers", "GET", None, 401, "403", "403", "200", "200", "403", "200"),
    (A + "suppliers", "POST", None, 401, "403", "403", "403", "403", "403", "201"),
    (A + "supplier", "GET", "supplier", 401, "403 403 403", "403 403 403", "200 200 200", "200 200", "403 403", "200 200"),
    (A + "supplier", "PATCH", "supplier", 401, "403 403 403", "403 403 403", "403 403 403", "403 403", "403 403", "200 200"),
    (A + "supplier-vetting", "POST", "supplier", 401, "403 403 403", "403 403 403", "403 403 403", "403 403", "403 403", "200 200"),
    (A + "supplier-conflicts", "POST", "supplier", 401, "403 403 403", "403 403 403", "201 201 201", "201 201", "403 403", "201 201"),
    (A + "application-quotes", "GET", "approved", 401, "403 404 404", "403 403 404", "200 200 404", "200 404", "403 403", "200 404"),
    (A + "application-quotes", "POST", "approved", 401, "403 404 404", "403 403 404", "403 403 404", "403 404", "403 403", "201 404"),
    (A + "quote-choose", "POST", "quote", 401, "403 404 404", "403 403 404", "403 403 404", "403 404", "403 403", "200 404"),
    (A + "application-purchase-orders", "POST", "approved", 401, "403 404 404", "403 403 404", "403 403 404", "403 404", "403 403", "201 404"),
    (A + "purchase-orders", "GET", None, 401, "200", "200", "200", "200", "403", "200"),
    (A + "purchase-order", "GET", "order", 401, "404 404 404", "404 404 404", "200 200 404", "200 404", "403 403", "200 404"),
    (A + "purchase-order-approve", "POST", "order", 401, "404 404 404", "404 404 404", "403 403 404", "200 404", "403 403", "200 404"),
    (A + "purchase-order-pdf", "GET", "order", 401, "404 404 404", "404 404 404", "200 200 404", "200 404", "403 403", "200 404"),
    ("procurement", "GET", None, "login", "403", "403", "200", "200", "403", "200"),
    ("procurement-suppliers", "GET", None, "login", "403", "403", "200", "200", "403", "200"),
    ("procurement-supplier-new", "GET", None, "login", "403", "403", "403", "403", "403", "200"),
    ("procurement-supplier-new", "POST", None, "login", "403", "403", "403", "403", "403", "ok"),
    ("procurement-supplier", "GET", "supplier", "login", "403 403 403", "403 403 403", "200 200 200", "200 200", "403 403", "200 200"),
    ("procurement-supplier-edit", "GET", "supplier", "login", "403 403 403", "403 403 403", "403 403 403", "403 403", "403 403", "200 200"),
    ("procurement-supplier-vet", "POST", "supplier", "login", "403 403 403", "403 403 403", "403 403 403", "403 403", "403 403", "ok ok"),
    ("procurement-supplier-conflict", "POST", "supplier", "login", "403 403 403", "403 403 403", "ok ok ok", "ok ok", "403 403", "ok ok"),
    ("procurement-grant", "GET", "approved", "login", "403 403 403", "403 403 403", "200 200 404", "200 404", "403 403", "200 404"),
    ("procurement-order-create", "POST", "approved", "login", "403 403 403", "403 403 403", "403 403 403", "403 403", "403 403", "ok 404"),
    ("procurement-quote-choose", "POST", "quote", "login", "403 403 403", "403 403 403", "403 403 403", "403 403", "403 403", "ok 404"),
    ("procurement-orders", "GET", None, "login", "403", "403", "200", "200", "403", "200"),
    ("procurement-order-approve", "POST", "order", "login", "403 403 403", "403 403 403", "403 403 403", "ok 404", "403 403", "ok 404"),
    ("procurement-order-pdf", "GET", "order", "login", "403 403 403", "403 403 403", "200 200 404", "200 404", "403 403", "200 404"),
    # -- selection: staff of the call's centres who do not sit on its committee (the
    # committee role's own table: COMMITTEE_MATRIX); "call" and "offer" are the
    # programme's one call (for every centre) and a reserve offer in it
    ("selection-calls", "GET", None, "login", "403", "200", "200", "403", "403"),
    ("selection-call", "GET", "call", "login", "403 403 403", "200 200 200", "200 200 200", "403 403", "403 403"),
    ("selection-committee", "POST", "call", "login", "403 403 403", "403 403 403", "ok ok ok", "403 403", "403 403"),
    ("selection-approve", "POST", "call", "login", "403 403 403", "403 403 403", "ok ok ok", "403 403", "403 403"),
    ("selection-minutes", "GET", "call", "login", "403 403 403", "200 200 200", "200 200 200", "403 403", "403 403"),
    ("selection-application", "GET", "submitted", "login", "403 403 403", "404 404 404", "404 404 404", "403 403", "403 403"),
    ("selection-declare", "POST", "submitted", "login", "403 403 403", "404 404 404", "404 404 404", "403 403", "403 403"),
    ("selection-offer", "POST", "offer", "login", "403 403 403", "403 403 403", "ok ok ok", "403 403", "403 403"),
    (A + "programme-calls", "GET", "programme", 401, "200 200 200", "200 200 200", "200 200 200", "200 200", "200 200"),
    (A + "calls", "GET", None, 401, "200", "200", "200", "200", "200"),
    (A + "call-committee", "GET", "call", 401, "404 404 404", "200 200 200", "200 200 200", "404 404", "404 404"),
    (A + "call-committee", "PUT", "call", 401, "404 404 404", "403 403 403", "400 400 400", "404 404", "404 404"),
    (A + "call-ranking", "GET", "call", 401, "404 404 404", "200 200 200", "200 200 200", "404 404", "404 404"),
    (A + "call-ranking-approve", "POST", "call", 401, "404 404 404", "403 403 403", "200 200 200", "404 404", "404 404"),
    (A + "call-minutes", "GET", "call", 401, "404 404 404", "200 200 200", "200 200 200", "404 404", "404 404"),
    (A + "application-declaration", "POST", "submitted", 401, "404 404 404", "404 404 404", "404 404 404", "404 404", "404 404"),
    (A + "application-committee-scores", "GET", "submitted", 401, "404 404 404", "200 200 200", "200 200 200", "404 404", "404 404"),
    (A + "application-committee-scores", "POST", "submitted", 401, "404 404 404", "404 404 404", "404 404 404", "404 404", "404 404"),
    (A + "reserve-offers", "GET", None, 401, "200", "200", "200", "200", "200"),
    (A + "reserve-offer-decision", "POST", "offer", 401, "404 404 404", "400 400 400", "400 400 400", "404 404", "404 404"),
]
# fmt: on

# The procurement officer's answers on the rows above without a sixth column (like
# finance: grants of their centre by number, no personal records, no money pages).
# fmt: off
PROCUREMENT_ANSWERS = {
    ("api:token", "POST", None): "400",
    ("api:token-revoke", "POST", None): "400",
    ("api:tokens", "GET", None): "200",
    ("api:token", "DELETE", None): "400",
    ("api:me", "GET", None): "200",
    ("api:webhooks", "GET", None): "200",
    ("api:webhooks", "POST", None): "403",
    ("api:webhook", "DELETE", "webhook"): "404 404",
    ("api:webhook-enable", "POST", "webhook"): "404 404",
    ("api:webhook-deliveries", "GET", "webhook"): "404 404",
    ("api:centres", "GET", None): "200",
    ("api:visits-due", "GET", None): "200",
    ("api:cohort-attendance-sheet", "POST", "enrolled_cohort"): "404 404",
    ("api:token-detail", "DELETE", "token"): "404 404",
    ("api:programmes", "GET", None): "200",
    ("api:applicants", "GET", None): "403",
    ("api:applicants", "POST", None): "403",
    ("api:applicant", "GET", "person"): "403 403",
    ("api:applications", "GET", None): "200",
    ("api:applications", "POST", "person"): "400 400",
    ("api:applicant-possible-duplicates", "POST", None): "403",
    ("api:applicant-duplicates", "GET", None): "200",
    ("api:applicant-duplicate-decision", "POST", "flag"): "403 404",
    ("api:cohorts", "GET", None): "200",
    ("api:cohorts", "POST", None): "403",
    ("api:application", "GET", "draft"): "200 404",
    ("api:application", "PATCH", "draft"): "403 404",
    ("api:application-transitions", "GET", "draft"): "200 404",
    ("api:application-history", "GET", "draft"): "200 404",
    ("api:application-documents", "GET", "draft"): "200 404",
    ("api:application-documents", "POST", "draft"): "201 404",
    ("api:document-download", "GET", "doc"): "200 404",
    ("api:document-download", "GET", "doc_sensitive"): "404 404",
    ("api:application-certificate", "GET", "ready"): "403 404",
    ("api:application-assessment", "GET", "ready"): "200 404",
    ("api:application-assessment", "POST", "submitted"): "403 404",
    ("api:application-deliveries", "GET", "approved_full"): "200 404",
    ("api:application-deliveries", "POST", "approved"): "403 404",
    ("api:application-visits", "GET", "follow_up"): "200 404",
    ("api:visit-record", "POST", "visit"): "403 404",
    ("api:cohort-enrollments", "POST", "cohort"): "404 404",
    ("api:cohort-headcounts", "GET", "cohort"): "404 404",
    ("api:cohort-headcounts", "POST", "cohort"): "404 404",
    ("api:meetings", "GET", None): "200",
    ("api:meetings", "POST", None): "403",
    ("api:enrolment-certificate", "GET", "direct_enrolment"): "404 404",
    ("api:referral-institutions", "GET", None): "403",
    ("api:cohort-attendance", "POST", "enrolled_cohort"): "404 404",
    ("api:application-ledger", "GET", "approved_full"): "403 404",
    ("api:application-handover-protocol", "GET", "approved"): "403 404",
    ("api:audit-events", "GET", None): "403",
    ("api:report-impact", "GET", None): "403",
    ("api:report-impact-export", "GET", None): "403",
    ("api:report-budget", "GET", None): "403",
    ("api:report-budget-export", "GET", None): "403",
    ("api:report-indicators", "GET", None): "403",
    ("api:donor-reports", "GET", None): "403",
    ("api:donor-reports", "POST", None): "403",
    ("api:donor-report-download", "GET", None): "403",
    ("api:report-ledger-export", "GET", None): "403",
    ("healthz", "GET", None): "200",
    ("login", "GET", None): "302",
    ("logout", "POST", None): "302",
    ("otp-verify", "GET", None): "ok",
    ("otp-setup", "GET", None): "ok",
    ("password_change", "GET", None): "200",
    ("password_change_done", "GET", None): "200",
    ("device-list", "GET", None): "200",
    ("device-revoke", "POST", "token"): "404 404",
    ("signup", "GET", None): "ok",
    ("home", "GET", None): "302",
    ("my-applications", "GET", None): "403",
    ("consent-renew", "GET", None): "404",
    ("consent-renew", "POST", None): "404",
    ("applicant-list", "GET", None): "403",
    ("applicant-register", "GET", None): "403",
    ("applicant-register", "POST", None): "403",
    ("duplicate-list", "GET", None): "403",
    ("duplicate-decide", "POST", "flag"): "403 403",
    ("applicant-export", "GET", "person"): "404 404",
    ("inbox", "GET", None): "403",
    ("application-new", "GET", "person"): "404 404",
    ("application-detail", "GET", "draft"): "200 404",
    ("application-edit", "GET", "draft"): "403 404",
    ("application-edit", "POST", "draft"): "403 404",
    ("application-step", "POST", "draft"): "403 404",
    ("application-reassign", "POST", "draft"): "403 403",
    ("document-upload", "POST", "draft"): "ok 404",
    ("document-download-page", "GET", "doc"): "200 404",
    ("document-download-page", "GET", "doc_sensitive"): "404 404",
    ("delivery-new", "GET", "approved"): "403 403",
    ("application-ledger-page", "GET", "approved_full"): "403 403",
    ("cohort-list", "GET", None): "403",
    ("cohort-new", "GET", None): "403",
    ("cohort-detail", "GET", "cohort"): "403 403",
    ("cohort-attendance", "POST", "enrolled_cohort"): "403 403",
    ("cohort-enrol", "POST", "cohort"): "403 403",
    ("cohort-enrol-person", "POST", "cohort"): "403 403",
    ("cohort-headcount", "POST", "cohort"): "403 403",
    ("enrolment-certificate", "GET", "direct_enrolment"): "403 403",
    ("meeting-list", "GET", None): "403",
    ("meeting-new", "GET", None): "403",
    ("referral-review", "POST", "draft"): "403 403",
    ("application-enrol", "POST", "submitted"): "403 403",
    ("assessment-form", "GET", "submitted"): "403 403",
    ("assessment-form", "POST", "submitted"): "403 403",
    ("visit-form", "GET", "visit"): "403 403",
    ("visit-form", "POST", "visit"): "403 403",
    ("approvals", "GET", None): "403",
    ("programme-list", "GET", None): "403",
    ("finance-budget", "GET", None): "403",
    ("finance-deliveries", "GET", None): "403",
    ("finance-commitments", "GET", None): "403",
    ("dashboard", "GET", None): "403",
    ("indicator-progress", "GET", None): "403",
    ("donor-reports", "GET", None): "403",
    ("donor-reports", "POST", None): "403",
    ("donor-report-download", "GET", None): "403",
    # rows added with the household rule, the grant contract and cost control: none is
    # the procurement officer's (refused at their centre, not found elsewhere)
    ("finance-assets", "GET", None): "403",
    ("api:application-contract-pdf", "GET", "approved"): "403 404",
    ("api:application-contract", "GET", "approved"): "403 404",
    ("api:application-contributions", "GET", "approved"): "403 404",
    ("api:application-cost-reapprovals", "GET", "approved"): "403 404",
    ("api:application-household-override", "GET", "ready"): "403 404",
    ("api:delivery-handover-protocol", "GET", "approved_full"): "403 404",
    ("application-cost-reapproval", "GET", "approved"): "403 403",
    ("api:application-contributions", "POST", "approved"): "403 404",
    ("api:application-cost-reapprovals", "POST", "approved"): "403 404",
    ("api:application-household-override", "POST", "submitted"): "403 404",
    ("api:contribution-reversal", "POST", "payment"): "403 404",
    ("application-cooperative", "POST", "draft"): "403 404",
    ("application-household-override", "POST", "submitted"): "403 403",
    ("application-member-add", "POST", "draft"): "403 404",
    ("application-member-remove", "POST", "draft"): "403 404",
    ("contribution-new-page", "POST", "approved"): "403 403",
    ("contribution-reverse-page", "POST", "payment"): "403 403",
    ("registration-page", "POST", "approved"): "403 403",
    ("api:application-registration", "PUT", "approved"): "403 404",
    # rows added with SMS
    ("api:applicant-channels", "PUT", "person"): "403 403",
    ("application-channels", "POST", "draft"): "403 404",
    ("sms-delivery-report", "POST", None): "403",
    ("sms-inbound", "POST", None): "403",
    # rows added with calls and the committee, and the auditor's pages: the procurement
    # officer reads the calls' dates like every role, and nothing of the selection
    ("api:application-committee-scores", "GET", "submitted"): "404 404",
    ("api:application-committee-scores", "POST", "submitted"): "404 404",
    ("api:application-declaration", "POST", "submitted"): "404 404",
    ("api:approvals", "GET", None): "403",
    ("api:call-committee", "GET", "call"): "404 404",
    ("api:call-committee", "PUT", "call"): "404 404",
    ("api:call-minutes", "GET", "call"): "404 404",
    ("api:call-ranking", "GET", "call"): "404 404",
    ("api:call-ranking-approve", "POST", "call"): "404 404",
    ("api:calls", "GET", None): "200",
    ("api:programme-calls", "GET", "programme"): "200 200",
    ("api:reserve-offer-decision", "POST", "offer"): "404 404",
    ("api:reserve-offers", "GET", None): "200",
    ("audit-trail", "GET", None): "403",
    ("selection-application", "GET", "submitted"): "403 403",
    ("selection-approve", "POST", "call"): "403 403",
    ("selection-call", "GET", "call"): "403 403",
    ("selection-calls", "GET", None): "403",
    ("selection-committee", "POST", "call"): "403 403",
    ("selection-declare", "POST", "submitted"): "403 403",
    ("selection-minutes", "GET", "call"): "403 403",
    ("selection-offer", "POST", "offer"): "403 403",
}
PROCUREMENT_TRANSITIONS = {
    "submit": "403 404",
    "withdraw": "403 404",
    "return_for_changes": "403 404",
    "admit_to_training": "403 404",
    "reject": "403 404",
    "approve": "403 404",
    "cancel": "403 404",
    "record_delivery": "403 404",
    "start_follow_up": "403 404",
    "complete": "403 404",
    "discontinue": "403 404",
    "no_such_step": "404 404",
}
# fmt: on

# Every transition, on an application in a state it starts from.
# fmt: off
TRANSITION_MATRIX = [
    # (transition, object, applicant, officer, manager, finance, auditor)
    ("submit", "draft", "200 404 404", "403 200 404", "403 403 404", "403 404", "403 403"),
    ("withdraw", "draft", "200 404 404", "403 200 404", "403 403 404", "403 404", "403 403"),
    ("return_for_changes", "submitted", "403 404 404", "403 200 404", "403 403 404", "403 404", "403 403"),
    ("admit_to_training", "enrolled", "403 404 404", "403 200 404", "403 403 404", "403 404", "403 403"),
    ("reject", "submitted", "403 404 404", "403 200 404", "403 200 404", "403 404", "403 403"),
    ("approve", "ready", "403 404 404", "403 403 404", "403 200 404", "403 404", "403 403"),
    ("cancel", "approved", "403 404 404", "403 403 404", "403 200 404", "403 404", "403 403"),
    ("record_delivery", "approved_full", "403 404 404", "403 200 404", "403 403 404", "200 404", "403 403"),
    ("start_follow_up", "delivered", "403 404 404", "403 200 404", "403 403 404", "403 404", "403 403"),
    ("complete", "follow_up", "403 404 404", "403 200 404", "403 403 404", "403 404", "403 403"),
    ("discontinue", "follow_up", "403 404 404", "403 200 404", "403 403 404", "403 404", "403 403"),
    ("no_such_step", "draft", "404 404 404", "404 404 404", "404 404 404", "404 404", "403 403"),
]
# fmt: on

# URLs no row is needed for: the admin (its own tests), static files, the language
# switch, the API schema and its browsable docs.
ALLOWLIST_PREFIXES = ("admin:", "static", "set_language", "api:schema", "api:docs")

ROLES = ["anonymous", "applicant", "officer", "manager", "finance", "auditor", "procurement"]
STAFF_COLUMNS = ["applicant", "officer", "manager", "finance", "auditor", "procurement"]
RELATIONS = {
    "procurement": ["same", "other"],
    "applicant": ["own", "other_applicant", "other_centre"],
    "officer": ["own", "same", "other"],
    "manager": ["own", "same", "other"],
    "finance": ["same", "other"],
    "auditor": ["same", "other"],
    "anonymous": ["same"],
}
# Whose objects each relation means, for each role.
OWNER_OF = {
    ("applicant", "own"): "P",
    ("applicant", "other_applicant"): "Q",
    ("applicant", "other_centre"): "R",
    ("officer", "own"): "O",
    ("manager", "own"): "M",
}


# ---- the world ----------------------------------------------------------------------


@dataclass
class Owned:
    """One owner's objects: an application in each state, and what hangs off them."""

    person: object
    apps: dict
    cohort: object
    doc: object
    doc_sensitive: object
    visit: object
    enrolled_cohort: object
    # The owner enrolled in `cohort` without a grant application (training as a service).
    direct_enrolment: object = None
    flag: object = None
    token: object = None
    payment: object = None
    supplier: object = None
    quote: object = None
    order: object = None
    call: object = None
    offer: object = None
    programme: object = None
    transfer: object = None


def build_owned(person, programme, *, officer, assessor, cohort):
    def app(**traits):
        return ApplicationFactory(
            applicant=person,
            programme=programme,
            assigned_officer=officer,
            state_facts__assessor=assessor,
            **traits,
        )

    apps = {
        "draft": app(),
        "submitted": app(submitted=True),
        "enrolled": app(submitted=True),
        "ready": app(ready=True),
        "approved": app(approved=True),
        "approved_full": app(approved=True),
        "delivered": app(delivered=True),
        "follow_up": app(follow_up=True),
    }
    enrolled_cohort = make_training_done(apps["enrolled"], complete=False)
    # The owner holds a grant in every later state of the one programme: the approval
    # of the ready one is allowed as a second grant (grants.households).
    HouseholdOverride.objects.create(application=apps["ready"], reason="One owner, every state.")
    make_full_delivery(apps["approved_full"], delivered_on=TODAY - datetime.timedelta(days=3))
    # Due three days ago, so that a visit recorded today is inside its window
    # (assessments.models: at most VISIT_EARLY_MARGIN_DAYS before it is due).
    apps["follow_up"].visits.update(
        due_on=TODAY - datetime.timedelta(days=3),
        visited_on=TODAY,
        operating=True,
        equipment_in_use=True,
        jobs_owner=1,
    )
    return Owned(
        person=person,
        apps=apps,
        cohort=cohort,
        doc=DocumentFactory(application=apps["draft"], kind="business_plan"),
        doc_sensitive=DocumentFactory(application=apps["draft"], kind="release_certificate"),
        visit=apps["follow_up"].visits.order_by("months").first(),
        enrolled_cohort=enrolled_cohort,
        direct_enrolment=Enrolment.objects.create(cohort=cohort, applicant=person),
        payment=ContributionPayment.objects.create(
            application=apps["approved"], amount=Decimal("1.00"), paid_on=TODAY, reference="Matrix payment"
        ),
    )


class MatrixWorld:
    def __init__(self):
        serbia = CountryFactory(code="RS", name="Serbia")
        self.centre = CentreFactory(country=serbia, name="Centre A")
        self.other_centre = CentreFactory(country=serbia, name="Centre B")
        # An own contribution to pay (10 %), so that recording a payment can succeed.
        self.programme = ProgrammeFactory(country=serbia, own_contribution_percent=Decimal("10"))
        self.users = {
            "officer": staff(roles.FIELD_OFFICER, self.centre, username="m-officer"),
            "manager": staff(roles.PROGRAMME_MANAGER, self.centre, username="m-manager"),
            "finance": staff(roles.FINANCE_OFFICER, self.centre, username="m-finance"),
            "auditor": staff(roles.AUDITOR, self.centre, username="m-auditor"),
            "procurement": staff(roles.PROCUREMENT_OFFICER, self.centre, username="m-procurement"),
        }
        colleague = self.colleague = staff(roles.FIELD_OFFICER, self.centre, username="m-colleague")
        officer_b = staff(roles.FIELD_OFFICER, self.other_centre, username="m-officer-b")
        cohort_a = TrainingCohortFactory(programme=self.programme, centre=self.centre, sessions=3)
        cohort_b = TrainingCohortFactory(programme=self.programme, centre=self.other_centre, sessions=3)

        people = {
            "P": ApplicantFactory(
                centre=self.centre, with_user=True, first_name="Marko", last_name="Own", is_former_inmate=True
            ),
            "Q": ApplicantFactory(centre=self.centre, with_user=True, first_name="Jelena", last_name="Other"),
            "R": ApplicantFactory(
                centre=self.other_centre, with_user=True, first_name="Arta", last_name="Far"
            ),
            "O": ApplicantFactory(centre=self.centre, user=self.users["officer"], last_name="Officer"),
            "M": ApplicantFactory(centre=self.centre, user=self.users["manager"], last_name="Manager"),
        }
        for key in ("O", "M"):
            assign_perm("applicants.view_applicant", people[key].user, people[key])
        self.users["applicant"] = people["P"].user
        # Signed in once (both steps for staff); each test sends the session cookie.
        self.sessions = {role: verified_login(Client(), user).cookies for role, user in self.users.items()}
        for person in people.values():
            ApplicantSensitiveFactory(applicant=person)
        # Between people without applications: a flag still to decide holds up the
        # approval of both people's grants (tests/test_duplicates_gate.py).
        flagged = {
            "a": ApplicantFactory(centre=self.centre, last_name="Flagged"),
            "a2": ApplicantFactory(centre=self.centre, last_name="Flagged"),
            "b": ApplicantFactory(centre=self.other_centre, last_name="Flagged"),
        }
        flags = {
            self.centre.pk: DuplicateFlagFactory(applicant=flagged["a"], other=flagged["a2"]),
            self.other_centre.pk: DuplicateFlagFactory(applicant=flagged["b"], other=flagged["a"]),
        }
        self.owned = {}
        for key, person in people.items():
            at_a = person.centre_id == self.centre.pk
            self.owned[key] = build_owned(
                person,
                self.programme,
                officer=(colleague if key == "O" else self.users["officer"]) if at_a else officer_b,
                assessor=colleague if at_a else officer_b,
                cohort=cohort_a if at_a else cohort_b,
            )
            self.owned[key].flag = flags[person.centre_id]
            self.add_procurement(self.owned[key])
            self.owned[key].token = issue_token(user=person.user, device=f"phone of {key}")[0]
        # A request to move each owner to the other centre, waiting for the sending centre
        # (staff's own of themselves, to be refused as their own; the applicants' of another
        # person at their centre, so that P and R themselves may still be moved or asked for).
        for key, person in people.items():
            at_a = person.centre_id == self.centre.pk
            if key not in ("O", "M"):
                person = ApplicantFactory(centre=person.centre, last_name="Moving")
            self.owned[key].transfer = CaseTransfer.objects.create(
                applicant=person,
                from_centre=self.centre if at_a else self.other_centre,
                to_centre=self.other_centre if at_a else self.centre,
                requested_by=officer_b if at_a else colleague,
            )
        # The programme's call has a committee of two external members; a reserve offer
        # waits in it.
        self.call = self.programme.calls.get()
        self.users["member"] = committee_member("m-member")
        self.users["chair"] = committee_member("m-chair")
        self.users["outsider"] = committee_member("m-outsider")
        make_committee(self.call, chair=self.users["chair"], members=[self.users["member"]])
        offer = ReserveOffer.objects.create(
            call=self.call, application=self.owned["P"].apps["submitted"], reason="cancelled", available=1000
        )
        for key in ("member", "chair", "outsider"):
            self.sessions[key] = verified_login(Client(), self.users[key]).cookies
        self.users["mne"] = staff(roles.MNE_OFFICER, self.centre, username="m-mne")
        self.referral_partner = ReferralPartner.objects.create(name="Matrix association", country=serbia)
        self.sessions["mne"] = verified_login(Client(), self.users["mne"]).cookies
        for owned in self.owned.values():
            owned.call, owned.offer, owned.programme = self.call, offer, self.programme
        self.add_complaints()
        # A trail with names in it: the auditor must read it without them.
        own_draft = self.owned["P"].apps["draft"]
        trail.record(action="edit", actor=people["P"].user, application=own_draft, comment="Added the oven.")
        trail.record(
            action="submit",
            actor=self.users["officer"],
            application=own_draft,
            on_behalf_of=people["P"],
            comment=f"{people['P'].first_name} {people['P'].last_name} asked me to send it.",
        )

    def add_complaints(self):
        """The safeguarding focal point, and complaints: an ordinary one at each centre
        (with a file), one of misconduct (with a file), and one about the staff conduct
        of m-officer on an application assigned to them."""
        self.users["focal"] = staff(roles.SAFEGUARDING_FOCAL_POINT, username="m-focal")
        self.sessions["focal"] = verified_login(Client(), self.users["focal"]).cookies

        def complaint(category, centre=None, **kwargs):
            return complaint_services.submit_complaint(
                by=None,
                channel="public_form",
                category=category,
                description="Matrix complaint.",
                language="en",
                centre=centre or self.centre,
                **kwargs,
            )[0]

        self.complaints = {
            "complaint": complaint("delay", attachment=pdf_upload_file()),
            "complaint_other": complaint("delay", self.other_centre),
            "complaint_sea": complaint("safeguarding", attachment=pdf_upload_file()),
            "complaint_self": complaint("staff_conduct", application=self.owned["P"].apps["draft"]),
        }
        self.complaints["attachment"] = self.complaints["complaint"].attachments.get()
        self.complaints["attachment_sea"] = self.complaints["complaint_sea"].attachments.get()

    def add_procurement(self, owned):
        """A vetted supplier (one for all), a chosen quote of it for the approved grant's
        first item, not yet ordered, and a pending order (by nobody of the matrix) of its
        second item from another supplier."""
        if not hasattr(self, "supplier"):
            self.supplier = SupplierFactory(name="Matrix supplier")
        first, second = owned.apps["approved"].items.order_by("position")[:2]
        owned.supplier = self.supplier
        owned.quote = SupplierQuoteFactory(
            item=first, supplier=self.supplier, unit_price="600.00", chosen=True
        )
        other = SupplierQuoteFactory(item=second, unit_price="470.00", chosen=True)
        application = owned.apps["approved"]
        owned.order = PurchaseOrder.objects.create(
            programme=application.programme,
            application=application,
            supplier=other.supplier,
            year=TODAY.year,
            sequence=PurchaseOrder.objects.filter(programme=application.programme).count() + 1,
            number=f"PO-M-{application.pk}",
            total="470.00",
        )
        SupplierQuote.objects.filter(pk=other.pk).update(purchase_order=owned.order)

    def owner(self, role, relation):
        if role in ("member", "chair", "outsider"):
            return "P"
        if (role, relation) in OWNER_OF:
            return OWNER_OF[(role, relation)]
        return "R" if relation == "other" else "P"


@pytest.fixture(scope="module")
def matrix_media(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix-media")


@pytest.fixture(scope="module")
def mworld(django_db_setup, django_db_blocker, matrix_media):
    with module_world(django_db_blocker, matrix_media, MatrixWorld) as world:
        yield world


@pytest.fixture(autouse=True)
def _matrix_storage(_isolated_services, settings, matrix_media):
    use_module_media(settings, matrix_media)


# ---- requests -----------------------------------------------------------------------


def fresh(user):
    """The user as a new request sees it: no permission caches from earlier tests."""
    return User.objects.get(pk=user.pk) if user is not None else None


def api_client(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(fresh(user))
    return client


def web_client(world, role):
    client = Client()
    if role != "anonymous":
        client.cookies = copy.deepcopy(world.sessions[role])
    return client


def pdf_upload():
    upload = io.BytesIO(PDF_BYTES + b"% matrix upload\n")
    upload.name = "plan.pdf"
    return upload


def pdf_upload_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("letter.pdf", PDF_BYTES + b"% complaint\n", content_type="application/pdf")


def body_for(name, method, owned, world):
    """A valid request body for the row, so that `allowed` is the success answer."""
    apps = owned.apps if owned else None
    if method in ("GET",) or name in ("logout",):
        return None
    if name == "api:token":
        return {"username": "nobody", "password": "wrong password"}
    if name == "api:applicants":
        return {
            "first_name": "Nova",
            "last_name": "Osoba",
            "date_of_birth": "1991-04-05",
            "centre": world.centre.pk,
            "target_groups": ["returnee"],
            "consent_given": True,
            "special_consents": ["return"],
        }
    if name == "api:applications":
        body = {"programme": world.programme.pk, "business_name": "Bakery", "sector": "food"}
        return body
    if name == "api:institutions":
        return {
            "centre": world.centre.pk,
            "name": "Prison workshop",
            "kind": "prison_workshop",
            "contact_first_name": "Dragan",
            "contact_last_name": "Ilić",
            "contact_date_of_birth": "1975-04-01",
            "consent_given": True,
        }
    if name == "api:cohorts":
        return {
            "programme": world.programme.pk,
            "centre": world.centre.pk,
            "title": "Evening course",
            "sessions": [{"date": TODAY.isoformat()}],
        }
    if name == "api:application":
        return {"business_name": "Renamed workshop"}
    if name == "api:application-documents":
        return {"kind": "business_plan", "file": pdf_upload()}
    if name == "api:application-assessment":
        return {
            "scores": {"viability": 4, "skills": 4, "market": 4, "need": 4, "commitment": 4},
            "recommendation": "approve",
            "comment": "Visited.",
        }
    if name == "api:application-deliveries":
        app = apps["approved"]
        return {
            "delivered_on": TODAY.isoformat(),
            "supplier": "Tehno Alat",
            "invoice_number": "INV-M-1",
            "lines": [
                {"item": i.pk, "quantity": 1, "actual_unit_cost": "600.00"} for i in app.items.all()[:1]
            ],
        }
    if name == "api:visit-record":
        return {"visited_on": TODAY.isoformat(), "operating": True, "equipment_in_use": True, "jobs": 2}
    if name == "api:cohort-enrollments":
        return {"application": apps["submitted"].pk}
    if name == "api:cohort-attendance-sheet":
        return {
            "session": owned.enrolled_cohort.sessions.order_by("date").first().pk,
            "records": [{"application": apps["enrolled"].pk, "present": True}],
        }
    if name == "api:cohort-attendance":
        return {
            "session": owned.enrolled_cohort.sessions.order_by("date").first().pk,
            "application": apps["enrolled"].pk,
            "present": True,
        }
    if name in ("api:suppliers", "procurement-supplier-new"):
        return {"name": "New supplier", "tax_number": "9999", "address": "Niš", "iban": iban()}
    if name == "api:supplier":
        return {"address": "Niš, Bulevar 1"}
    if name in ("api:supplier-vetting", "procurement-supplier-vet"):
        return {"status": "approved"}
    if name in ("api:supplier-conflicts", "procurement-supplier-conflict"):
        return {"note": "Matrix"}
    if name == "api:application-quotes":
        return {
            "item": apps["approved"].items.order_by("position").first().pk,
            "supplier": SupplierFactory().pk,
            "unit_price": "610.00",
            "quoted_on": TODAY.isoformat(),
            "valid_until": TODAY.isoformat(),
            "file": quote_file(),
        }
    if name in ("api:application-purchase-orders",):
        return {"supplier": owned.supplier.pk}
    if name == "api:application-transition":
        # (the outcome of each delivered item: read by discontinue only)
        lines = DeliveryLine.objects.filter(delivery__application=apps["follow_up"]) if apps else []
        return {
            "comment": "Reason given in the matrix test.",
            "equipment": [{"line": line.pk, "outcome": "recovered"} for line in lines],
        }
    if name == "api:application-cost-reapprovals":
        return {"limit": "2000.00", "reason": "Prices rose (matrix test)."}
    if name == "api:applicant-transfer":
        return {"to_centre": world.other_centre.pk}
    if name == "api:applicant-referral":
        return {"partner": world.referral_partner.pk}
    if name == "person-move":
        return {"to_centre": world.other_centre.pk}
    if name == "transfer-decide":
        return {"decision": "confirm"}
    if name in ("api:transfers", "transfer-request"):
        person = owned.person
        return {
            "applicant": person.pk,
            "date_of_birth": person.date_of_birth.isoformat(),
            "to_centre": world.centre.pk,
        }
    if name == "application-step":
        return {"transition": "submit", "comment": ""}
    if name == "api:applicant-channels":
        return {"accepts_email": True, "accepts_sms": False}
    if name == "application-channels":
        return {"channels": ["email"]}
    if name == "application-reassign":
        return {"officer": world.colleague.pk}
    if name in ("api:application-household-override", "application-household-override"):
        return {"reason": "Separate businesses."}
    if name in ("api:applicant-duplicate-decision", "duplicate-decide"):
        return {"decision": "different_person"}
    if name == "api:applicant-possible-duplicates":
        return {"first_name": "Marko", "last_name": "Own", "date_of_birth": "1990-03-02"}
    if name == "assessment-form":
        scores = {f"score_{c.criterion}": "4" for c in apps["submitted"].programme.rubric.all()}
        return {**scores, "recommendation": "approve", "reasons": "Visited."}
    if name == "visit-form":
        return {
            "visited_on": TODAY.isoformat(),
            "operating": "yes",
            "equipment_in_use": "yes",
            "jobs_owner": "1",
            "jobs_family": "0",
            "jobs_employees": "0",
        }
    if name in ("api:application-contributions", "contribution-new-page"):
        return {"amount": "1.00", "paid_on": TODAY.isoformat(), "reference": "Matrix bank statement"}
    if name in ("api:contribution-reversal", "contribution-reverse-page"):
        return {"reason": "Recorded on the wrong grant."}
    if name in ("api:application-registration", "registration-page"):
        return {"number": "81000123", "registered_on": TODAY.isoformat()}
    if name == "application-edit":
        return {"business_name": "Renamed"}
    if name == "document-upload":
        return {"kind": "business_plan", "file": pdf_upload()}
    if name == "cohort-enrol":
        return {"application": apps["submitted"].pk}
    if name == "cohort-enrol-person":
        return {"applicant": owned.person.pk}
    if name == "api:cohort-headcounts":
        return {"session": owned.cohort.sessions.order_by("date").first().pk, "counts": []}
    if name == "api:meetings":
        return {
            "programme": owned.cohort.programme_id,
            "centre": owned.cohort.centre_id,
            "held_on": TODAY.isoformat(),
            "kind": "network",
            "participants": 5,
        }
    if name == "application-enrol":
        return {"cohort": owned.cohort.pk}
    if name == "cohort-attendance":
        enrolment = apps["enrolled"].enrolments.get(active=True)
        session = owned.enrolled_cohort.sessions.order_by("date").first()
        return {f"present-{enrolment.pk}-{session.pk}": "on"}
    return {}


# Rows whose object goes in the request (body or query), not in the URL.
OBJECT_IN_REQUEST = {"api:applications", "application-new", "api:transfers", "transfer-request"}


def url_for(name, obj_kind, owned, extra=None):
    kwargs = dict(extra or {})
    if obj_kind is None or name in OBJECT_IN_REQUEST:
        pass
    elif obj_kind == "person":
        kwargs["pk"] = owned.person.pk
    elif obj_kind in ("webhook", "submission"):
        kwargs["pk"] = 424242  # a service account's endpoint or form submission: no person owns one
    elif obj_kind in (
        "doc", "doc_sensitive", "visit", "cohort", "enrolled_cohort", "flag", "token", "payment", "supplier",
        "quote", "order", "call", "offer", "programme", "transfer", "direct_enrolment",
    ):  # fmt: skip
        kwargs["pk"] = getattr(owned, obj_kind).pk
    else:
        kwargs["pk"] = owned.apps[obj_kind].pk
    if name == "application-member-remove":
        kwargs["applicant_id"] = owned.person.pk
    if name == "api:delivery-handover-protocol":
        kwargs["delivery"] = owned.apps[obj_kind].deliveries.first().pk
    if name.endswith("-export") and name.startswith("api:report"):
        kwargs["fmt"] = "csv"
    if name == "procurement-order-create":
        kwargs["supplier_pk"] = owned.supplier.pk
    return reverse(name, kwargs=kwargs)


def query_for(name, owned):
    """Officers name the person a new application is for (applicants apply for themselves)."""
    if name == "application-new":
        return {"applicant": owned.person.pk}
    return None


def perform(name, method, obj_kind, role, relation, world, extra=None):
    user = None if role == "anonymous" else world.users[role]
    owned = world.owned[world.owner(role, relation)] if obj_kind else world.owned["P"]
    url = url_for(name, obj_kind, owned if obj_kind else None, extra)
    body = body_for(name, method, owned, world)
    if name == "api:applications" and method == "POST" and not (role == "applicant" and relation == "own"):
        body["applicant"] = owned.person.pk
    query = query_for(name, owned)
    if name.startswith("api:"):
        client = api_client(user)
        if method == "GET":
            return client.get(url, query)
        multipart = name in ("api:application-documents", "api:application-quotes")
        return getattr(client, method.lower())(url, body, format="multipart" if multipart else "json")
    client = web_client(world, role)
    if method == "GET":
        return client.get(url, query)
    return client.post(url, body or {})


def meets(response, expected):
    status = response.status_code
    location = response.get("Location", "") if status == 302 else ""
    if expected == "login":
        return status == 302 and reverse("login") in location
    if expected == "ok":
        return status in (200, 201, 204, 400) or (status == 302 and reverse("login") not in location)
    return status == int(expected)


def expand(rows):
    """(id, name, method, object, role, relation, expected) for every cell of the table."""
    for name, method, obj_kind, anon, *by_role in rows:
        cells = {"anonymous": str(anon)}
        if len(by_role) == len(STAFF_COLUMNS) - 1:
            by_role = [*by_role, PROCUREMENT_ANSWERS[(name, method, obj_kind)]]
        cells.update(zip(STAFF_COLUMNS, by_role, strict=True))
        for role in ROLES:
            values = cells[role].split()
            relations = RELATIONS[role] if obj_kind else ["-"]
            if role == "anonymous":
                relations = ["same"] if obj_kind else ["-"]
            assert len(values) == len(relations), f"{name} {method} {role}: {values} for {relations}"
            for relation, value in zip(relations, values, strict=True):
                if value == "-":
                    continue
                yield pytest.param(
                    name,
                    method,
                    obj_kind,
                    role,
                    relation,
                    value,
                    id=f"{method} {name} {obj_kind} {role} {relation}",
                )


def expand_transitions():
    for step, obj_kind, *by_role in TRANSITION_MATRIX:
        row = ("api:application-transition", "POST", obj_kind, 401, *by_role, PROCUREMENT_TRANSITIONS[step])
        for param in expand([row]):
            name, method, kind, role, relation, value = param.values
            yield pytest.param(step, kind, role, relation, value, id=f"{step} {kind} {role} {relation}")


pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("name", "method", "obj_kind", "role", "relation", "expected"), list(expand(MATRIX)))
def test_matrix(mworld, name, method, obj_kind, role, relation, expected):
    response = perform(name, method, obj_kind, role, relation, mworld)
    assert meets(response, expected), (
        f"{role} ({relation}) {method} {name}: expected {expected}, got {response.status_code} "
        f"{getattr(response, 'data', '') or response.get('Location', '')}"
    )


@pytest.mark.parametrize(("step", "obj_kind", "role", "relation", "expected"), list(expand_transitions()))
def test_transition_matrix(mworld, step, obj_kind, role, relation, expected):
    response = perform(
        "api:application-transition", "POST", obj_kind, role, relation, mworld, extra={"name": step}
    )
    assert meets(response, expected), (
        f"{role} ({relation}) {step}: expected {expected}, got {response.status_code} "
        f"{getattr(response, 'data', '')}"
    )
    if expected == "200":
        assert response.json()["state"] != State.DRAFT or step == "return_for_changes"


# The committee role: an external member of the call's committee, its chair (external
# too; the programme's approver is a programme manager) and an external member of no
# committee. Objects as the applicant "own" column: P's submitted application, the call.
# fmt: off
COMMITTEE_MATRIX = [
    # (url name, method, object, member, chair, outsider)
    ("home", "GET", None, "302", "302", "302"),
    ("selection-calls", "GET", None, "200", "200", "200"),
    ("selection-call", "GET", "call", "200", "200", "404"),
    ("selection-committee", "POST", "call", "403", "403", "403"),
    ("selection-approve", "POST", "call", "403", "403", "404"),
    ("selection-minutes", "GET", "call", "403", "200", "404"),
    ("selection-application", "GET", "submitted", "200", "200", "404"),
    ("selection-application", "GET", "draft", "404", "404", "404"),
    ("selection-declare", "POST", "submitted", "ok", "ok", "404"),
    ("selection-offer", "POST", "offer", "403", "403", "404"),
    ("inbox", "GET", None, "403", "403", "403"),
    ("application-detail", "GET", "submitted", "404", "404", "404"),
    ("approvals", "GET", None, "403", "403", "403"),
    ("finance-budget", "GET", None, "403", "403", "403"),
    ("dashboard", "GET", None, "403", "403", "403"),
    (A + "calls", "GET", None, "200", "200", "200"),
    (A + "call-ranking", "GET", "call", "200", "200", "404"),
    (A + "call-committee", "PUT", "call", "403", "403", "404"),
    (A + "call-ranking-approve", "POST", "call", "403", "403", "404"),
    (A + "application-declaration", "POST", "submitted", "400", "400", "404"),
    (A + "application-committee-scores", "GET", "submitted", "403", "403", "404"),
    (A + "application", "GET", "submitted", "404", "404", "404"),
    (A + "applications", "GET", None, "200", "200", "200"),
    # (no personal data for the role: refused, as for finance and procurement)
    (A + "applicants", "GET", None, "403", "403", "403"),
    (A + "audit-events", "GET", None, "403", "403", "403"),
    (A + "report-budget", "GET", None, "403", "403", "403"),
    ("transfer-list", "GET", None, "403", "403", "403"),
]
# fmt: on


def expand_committee():
    for name, method, obj_kind, *answers in COMMITTEE_MATRIX:
        for role, expected in zip(("member", "chair", "outsider"), answers, strict=True):
            yield pytest.param(
                name, method, obj_kind, role, expected, id=f"{method} {name} {obj_kind} {role}"
            )


@pytest.mark.parametrize(("name", "method", "obj_kind", "role", "expected"), list(expand_committee()))
def test_committee_matrix(mworld, name, method, obj_kind, role, expected):
    response = perform(name, method, obj_kind, role, "own", mworld)
    assert meets(response, expected), (
        f"{role} {method} {name}: expected {expected}, got {response.status_code} "
        f"{getattr(response, 'data', '') or response.get('Location', '')}"
    )


def test_the_committee_role_sees_no_application_list_rows(mworld):
    """Its applications are read through the selection only: the lists are empty."""
    client = api_client(mworld.users["member"])
    assert client.get(reverse("api:applications")).json()["count"] == 0
    assert client.get(reverse("api:applicants")).status_code == 403


# The M&E officer (monitoring and evaluation, at centre A): visits and figures of the
# grants of their centres, no step, no applicant record, document or sensitive fact.
# Objects: P's (same centre) and R's (other centre).
# fmt: off
MNE_MATRIX = [
    # (url name, method, object, same, other)
    ("home", "GET", None, "302", "302"),
    ("dashboard", "GET", None, "200", "200"),
    ("inbox", "GET", None, "403", "403"),
    ("approvals", "GET", None, "403", "403"),
    ("applicant-list", "GET", None, "403", "403"),
    ("application-detail", "GET", "follow_up", "200", "404"),
    ("application-edit", "GET", "draft", "403", "404"),
    ("visit-form", "GET", "visit", "403", "403"),
    ("finance-budget", "GET", None, "403", "403"),
    ("audit-trail", "GET", None, "403", "403"),
    (A + "applications", "GET", None, "200", "200"),
    (A + "application", "GET", "follow_up", "200", "404"),
    (A + "application-visits", "GET", "follow_up", "200", "404"),
    (A + "visit-record", "POST", "visit", "403", "404"),
    (A + "application-ledger", "GET", "approved_full", "403", "404"),
    (A + "document-download", "GET", "doc", "403", "404"),
    (A + "document-download", "GET", "doc_sensitive", "403", "404"),  # (the same answer as any document)
    (A + "applicant", "GET", "person", "403", "403"),
    (A + "applicants", "GET", None, "403", "403"),
    (A + "institutions", "GET", None, "403", "403"),
    ("institution-list", "GET", None, "403", "403"),
    (A + "approvals", "GET", None, "403", "403"),
    (A + "audit-events", "GET", None, "403", "403"),
    (A + "transfers", "GET", None, "403", "403"),
    ("transfer-list", "GET", None, "403", "403"),
    ("person-move", "GET", "person", "403", "403"),
    (A + "referrals", "GET", None, "403", "403"),
    (A + "report-impact", "GET", None, "200", "200"),
    (A + "report-budget", "GET", None, "200", "200"),
    (A + "report-ledger-export", "GET", None, "403", "403"),
    (A + "cohorts", "GET", None, "200", "200"),
]
# fmt: on


def expand_mne():
    for name, method, obj_kind, *answers in MNE_MATRIX:
        for relation, expected in zip(("same", "other"), answers, strict=True):
            if obj_kind is None and relation == "other":
                continue
            yield pytest.param(
                name, method, obj_kind, relation, expected, id=f"{method} {name} {obj_kind} {relation}"
            )


@pytest.mark.parametrize(("name", "method", "obj_kind", "relation", "expected"), list(expand_mne()))
def test_mne_matrix(mworld, name, method, obj_kind, relation, expected):
    response = perform(name, method, obj_kind, "mne", relation, mworld)
    assert meets(response, expected), (
        f"mne ({relation}) {method} {name}: expected {expected}, got {response.status_code} "
        f"{getattr(response, 'data', '') or response.get('Location', '')}"
    )


# Complaints, with the safeguarding focal point's column. Objects: an ordinary complaint
# at centre A (`complaint`, and its file `attachment`), one at centre B
# (`complaint_other`), one of misconduct of a sexual nature or abuse of power at centre A
# (`complaint_sea`, its file `attachment_sea`), and one about m-officer's conduct on an
# application assigned to them (`complaint_self`).
# fmt: off
COMPLAINT_MATRIX = [
    # (url name, method, object, anonymous, applicant, officer, manager, finance, auditor, procurement, focal)
    ("complaint-new", "GET", None, "200", "200", "302", "302", "302", "302", "302", "302"),
    ("complaint-new", "POST", None, "ok", "ok", "302", "302", "302", "302", "302", "302"),
    ("complaint-follow-up", "GET", None, "200", "200", "200", "200", "200", "200", "200", "200"),
    # (a wrong code: the same answer for everyone)
    ("complaint-follow-up", "POST", None, "404", "404", "404", "404", "404", "404", "404", "404"),
    ("complaint-record", "GET", None, "login", "403", "200", "200", "403", "403", "403", "200"),
    ("complaint-record", "POST", None, "login", "403", "ok", "ok", "403", "403", "403", "ok"),
    ("complaint-list", "GET", None, "login", "403", "200", "200", "403", "403", "403", "200"),
    ("complaint-register", "GET", None, "login", "403", "403", "200", "403", "200", "403", "200"),
    ("complaint-detail", "GET", "complaint", "login", "403", "200", "200", "403", "403", "403", "404"),
    ("complaint-detail", "GET", "complaint_other", "login", "403", "404", "404", "403", "403", "403", "404"),
    ("complaint-detail", "GET", "complaint_self", "login", "403", "404", "200", "403", "403", "403", "404"),
    ("complaint-detail", "GET", "complaint_sea", "login", "403", "404", "404", "403", "403", "403", "200"),
    ("complaint-acknowledge", "POST", "complaint", "login", "404", "403", "ok", "404", "404", "404", "404"),
    ("complaint-acknowledge", "POST", "complaint_sea", "login", "404", "404", "404", "404", "404", "404", "ok"),
    ("complaint-note", "POST", "complaint", "login", "404", "403", "ok", "404", "404", "404", "404"),
    ("complaint-note", "POST", "complaint_sea", "login", "404", "404", "404", "404", "404", "404", "ok"),
    ("complaint-resolve", "POST", "complaint", "login", "404", "403", "ok", "404", "404", "404", "404"),
    ("complaint-resolve", "POST", "complaint_sea", "login", "404", "404", "404", "404", "404", "404", "ok"),
    ("complaint-attachment", "GET", "attachment", "login", "404", "200", "200", "404", "404", "404", "404"),
    ("complaint-attachment", "GET", "attachment_sea", "login", "404", "404", "404", "404", "404", "404", "200"),
    (A + "complaints", "GET", None, "401", "403", "200", "200", "403", "403", "403", "200"),
    (A + "complaint", "GET", "complaint", "401", "403", "200", "200", "403", "403", "403", "404"),
    (A + "complaint", "GET", "complaint_self", "401", "403", "404", "200", "403", "403", "403", "404"),
    (A + "complaint", "GET", "complaint_sea", "401", "403", "404", "404", "403", "403", "403", "200"),
]
# fmt: on
COMPLAINT_ROLES = [
    "anonymous",
    "applicant",
    "officer",
    "manager",
    "finance",
    "auditor",
    "procurement",
    "focal",
]


def complaint_body(name, world):
    if name == "complaint-new":
        return {
            "category": "delay",
            "centre": world.centre.pk,
            "description": "Matrix complaint.",
            "website": "",
            "started": abuse.form_token(now=0),
        }
    if name == "complaint-follow-up":
        return {"reference": world.complaints["complaint"].reference, "code": "WRONGCODE"}
    if name == "complaint-record":
        return {
            "channel": "phone",
            "category": "other",
            "centre": world.centre.pk,
            "description": "By phone.",
        }
    if name == "complaint-note":
        return {"text": "Matrix note."}
    if name == "complaint-resolve":
        return {"outcome": "Matrix outcome."}
    return {}


def perform_complaint(name, method, obj_kind, role, world):
    user = None if role == "anonymous" else world.users[role]
    url = reverse(name, kwargs={"pk": world.complaints[obj_kind].pk} if obj_kind else {})
    if name.startswith("api:"):
        return api_client(user).get(url)
    client = web_client(world, role)
    if method == "GET":
        return client.get(url)
    return client.post(url, complaint_body(name, world))


def expand_complaints():
    for name, method, obj_kind, *answers in COMPLAINT_MATRIX:
        for role, expected in zip(COMPLAINT_ROLES, answers, strict=True):
            yield pytest.param(
                name, method, obj_kind, role, expected, id=f"{method} {name} {obj_kind} {role}"
            )


@pytest.mark.parametrize(("name", "method", "obj_kind", "role", "expected"), list(expand_complaints()))
def test_complaint_matrix(mworld, name, method, obj_kind, role, expected):
    response = perform_complaint(name, method, obj_kind, role, mworld)
    assert meets(response, expected), (
        f"{role} {method} {name} {obj_kind}: expected {expected}, got {response.status_code} "
        f"{getattr(response, 'data', '') or response.get('Location', '')}"
    )


def test_the_misconduct_category_is_closed_to_every_role_but_the_focal_point():
    """Read from the table: on a misconduct case or its file, every cell but the focal
    point's is a refusal."""
    rows = [row for row in COMPLAINT_MATRIX if row[2] in ("complaint_sea", "attachment_sea")]
    assert {row[0] for row in rows} >= {
        "complaint-detail", "complaint-acknowledge", "complaint-note", "complaint-resolve",
        "complaint-attachment", "api:complaint",
    }  # fmt: skip
    for name, method, _obj, *answers in rows:
        cells = dict(zip(COMPLAINT_ROLES, answers, strict=True))
        assert cells.pop("focal") in ("200", "ok"), name
        assert all(value in ("login", "401", "403", "404") for value in cells.values()), (name, method, cells)


# ---- coverage: a new URL without a row fails ----------------------------------------


def url_patterns(patterns=None, namespace=""):
    """(name, view) of every URL the project serves, with its namespace."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or pattern.pattern}", pattern.callback


def test_every_url_has_a_row():
    rows = {(name, method) for name, method, *_rest in [*MATRIX, *COMPLAINT_MATRIX]}
    rows |= {("api:application-transition", "POST")}
    named = {name for name, _method in rows}
    missing = []
    for name, view in url_patterns():
        if name.startswith(ALLOWLIST_PREFIXES):
            continue
        view_class = getattr(view, "cls", None)
        if view_class is not None and issubclass(view_class, APIView):
            for method in ("get", "post", "put", "patch", "delete"):
                if hasattr(view_class, method) and (name, method.upper()) not in rows:
                    missing.append(f"{method.upper()} {name}")
        elif name not in named:
            missing.append(name)
    assert missing == [], f"add rows to MATRIX in {__name__} for: {missing}"


def test_the_transition_matrix_reads_the_transition_table():
    """A row for every step of grants.transitions, and the applicant's own column says
    what the table says of the step (`owner`)."""
    rows = {row[0]: row for row in TRANSITION_MATRIX if row[0] != "no_such_step"}
    assert set(rows) == set(transitions.NAMES)
    for name, row in rows.items():
        applicant_own = row[2].split()[0]
        assert (applicant_own == "200") == transitions.step(name).owner, name


# ---- an applicant trying other people's ids -----------------------------------------

# (the supplier register is nobody's record: an applicant is refused it, 403, whatever the
# id; programmes are read by every signed-in role: their ids tell nothing)
ID_KINDS = {
    name: obj_kind
    for name, _m, obj_kind, *_r in MATRIX
    if obj_kind and obj_kind not in ("supplier", "programme") and name not in OBJECT_IN_REQUEST
}
ID_KINDS["api:application-transition"] = "draft"
NO_SUCH_ID = 987654


def id_urls():
    for name, view in url_patterns():
        if name.startswith(ALLOWLIST_PREFIXES) or name not in ID_KINDS:
            continue
        methods = [m for (m,) in {(m,) for n, m, *_r in MATRIX if n == name}] or ["POST"]
        for method in methods:
            yield pytest.param(name, method, id=f"{method} {name}")


@pytest.mark.parametrize(("name", "method"), list(id_urls()))
def test_an_applicant_trying_other_ids_learns_nothing(mworld, name, method):
    """Another applicant's id (at the same centre or another) answers exactly as an id
    that does not exist: 404 on every application, document, visit and history URL;
    pages that are not for applicants at all answer 403 whatever the id."""
    kind = ID_KINDS[name]
    extra = {"name": "submit"} if name == "api:application-transition" else {}
    answers = {}
    for owner in ("Q", "R", None):
        if owner is None:
            kwargs = {**extra, "pk": NO_SUCH_ID}
            if name == "application-member-remove":
                kwargs["applicant_id"] = NO_SUCH_ID
            if name == "api:delivery-handover-protocol":
                kwargs["delivery"] = NO_SUCH_ID
            if name.startswith("api:report") and name.endswith("-export"):
                kwargs["fmt"] = "csv"
            if name == "procurement-order-create":
                kwargs["supplier_pk"] = mworld.supplier.pk
            url = reverse(name, kwargs=kwargs)
        else:
            url = url_for(name, kind, mworld.owned[owner], extra)
        body = body_for(name, method, mworld.owned[owner or "P"], mworld)
        if name.startswith("api:"):
            client = api_client(mworld.users["applicant"])
            fmt = "multipart" if name == "api:application-documents" else "json"
            response = (
                client.get(url) if method == "GET" else getattr(client, method.lower())(url, body, format=fmt)
            )
        else:
            client = web_client(mworld, "applicant")
            response = client.get(url) if method == "GET" else client.post(url, body or {})
        # API bodies must match to the byte; a web page carries its own form token.
        same_body = response.content if name.startswith("api:") else b""
        answers[owner or "no such id"] = (response.status_code, same_body)
    statuses = {status for status, _body in answers.values()}
    assert len(set(answers.values())) == 1, f"{method} {name}: {answers}"
    if name.startswith("api:") or name in (
        "application-detail",
        "application-edit",
        "document-download-page",
    ):
        assert statuses == {404}
    else:
        assert statuses <= {403, 404}


# ---- finance and the auditor never receive sensitive facts --------------------------

SENSITIVE_KEYS = {"referral_institution", "release_month", "returned_from", "return_date", "ethnicity"}
# A person's target group says "former inmate", and so does a programme's, tied to a grant
# number: neither reaches finance or the auditor (docs/permissions.md).
PERSON_GROUP_KEYS = {"target_groups", "is_former_inmate", "is_returnee", "is_socially_disadvantaged"}
# (Marko's referral is written as "other": the list of institutions names prisons too,
# and a form that offers the list tells nothing about him)
REFERRAL = "Correctional Institution Sremska Mitrovica"
SENSITIVE_VALUES = [REFERRAL, "Germany", "Roma", "release_certificate", "return_certificate"]
PERSONAL_KEYS = {"national_id", "phone", "date_of_birth", "email", "address", "first_name", "last_name"}


def keys_in(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from keys_in(value)
    elif isinstance(data, list):
        for value in data:
            yield from keys_in(value)


def get_rows():
    for name, method, obj_kind, *_r in MATRIX:
        if name.startswith("api:") and method == "GET":
            yield name, obj_kind


@pytest.mark.parametrize("role", ["finance", "auditor", "procurement"])
def test_finance_and_the_auditor_receive_no_sensitive_facts(mworld, role):
    client = api_client(mworld.users[role])
    owned = mworld.owned["P"]
    seen = 0
    for name, obj_kind in get_rows():
        url = url_for(name, obj_kind, owned) if obj_kind else url_for(name, None, None)
        response = client.get(url)
        if response.status_code != 200:
            continue
        seen += 1
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        text = raw.decode("utf-8", errors="replace")
        for value in SENSITIVE_VALUES:
            assert value not in text, f"{role} got {value!r} from {url}"
        if response.get("Content-Type", "").startswith("application/json"):
            keys = set(keys_in(response.json()))
            assert not keys & SENSITIVE_KEYS, f"{role} got {keys & SENSITIVE_KEYS} from {url}"
            assert not keys & PERSON_GROUP_KEYS, f"{role} got {keys & PERSON_GROUP_KEYS} from {url}"
            if role == "auditor":
                assert not keys & PERSONAL_KEYS, f"the auditor got {keys & PERSONAL_KEYS} from {url}"
        if role == "auditor":
            person = owned.person
            for value in (person.first_name, person.last_name, person.phone):
                assert value not in text, f"the auditor got {value!r} from {url}"
    assert seen >= (5 if role == "auditor" else 10)


@pytest.mark.parametrize("role", ["finance", "auditor", "procurement", "colleague"])
def test_pages_leave_the_sensitive_section_out(mworld, role):
    """Every web page finance, the auditor or an officer who is not the assigned one can
    open about Marko: none shows his referral, return details or ethnicity, nor the
    release certificate."""
    if role == "colleague":
        client = Client()
        verified_login(client, fresh(mworld.colleague))
    else:
        client = web_client(mworld, role)
    owned = mworld.owned["P"]
    seen = 0
    for name, method, obj_kind, *_r in MATRIX:
        if name.startswith("api:") or method != "GET" or name in ("logout",):
            continue
        url = url_for(name, obj_kind, owned if obj_kind else None)
        # (the application page shows the section on request: ask for it)
        query = {**(query_for(name, owned) or {}), "show": "sensitive"}
        response = client.get(url, query)
        if (
            response.status_code != 200
            or response.streaming
            or "html" not in response.get("Content-Type", "")
        ):
            continue
        if not response["Content-Type"].startswith("text/html"):
            continue  # (the committee's minutes: a PDF, read by tests/test_selection.py)
        seen += 1
        page = response.content.decode()
        for value in (REFERRAL, "Germany", "Roma", owned.doc_sensitive.original_name):
            assert value not in page, f"{role} sees {value!r} on {url}"
    assert seen >= 3


def test_the_assigned_officer_does_see_the_section(mworld):
    """The other side of the test above: the facts are on the page for the assigned
    officer, so their absence elsewhere is the permission, not a page without them."""
    owned = mworld.owned["P"]
    url = url_for("application-detail", "draft", owned)
    page = web_client(mworld, "officer").get(url, {"show": "sensitive"}).content.decode()
    assert REFERRAL in page
    assert owned.doc_sensitive.original_name in page
