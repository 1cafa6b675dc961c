"""Bad input at the API: schemathesis generates requests from /api/v1/schema/ (valid and
invalid ones, a bounded number per endpoint: FUZZ_EXAMPLES) and sends them, as each role
with its own token, to the WSGI application in-process. No answer may be a server error,
every answer must be one the schema documents, in the documented shape, valid requests
are accepted (or refused for what the schema cannot promise: refused_on_meaning) and
invalid ones refused. Hand-written hostile
values (long, control characters, HTML, wrong numbers) get field errors and change
nothing."""

import os
import re
import uuid

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from applicants.models import Applicant
from assessments.models import MonitoringVisit, TrainingCohort
from core.parsers import FORBIDDEN
from grants.models import TRANSITION_NAMES, AuditEvent, Document, GrantApplication

from .factories import DocumentFactory, TrainingCohortFactory, api_key

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Examples per endpoint, per role and per mode (valid / invalid data); CI may raise it.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
IDEMPOTENCY_KEY = re.compile(r"^[!-~]{1,255}$")
# Business rules and references are not shape (docs/api.md, "What the schema promises").
SHAPE_CODES = {"invalid", "parse_error"}


DECIMAL_OR_DATE = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$|^\d{4}-\d{2}-\d{2}$")


def _limited_value(value):
    """An id, an amount or a date: values whose limits come from the records (the id
    names a record, the amount is within the budget, the visit after the delivery)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(DECIMAL_OR_DATE.match(value)))


def _names_only_references(errors, body):
    """True when every field error sits on an id, an amount or a date of the body."""
    if isinstance(errors, dict) and isinstance(body, list):
        # A list's errors by position: {"1": {"hours": [...]}}.
        if not all(str(key).isdigit() and int(key) < len(body) for key in errors):
            return False
        return all(_names_only_references(errors[key], body[int(key)]) for key in errors)
    if isinstance(errors, dict):
        if not isinstance(body, dict):
            return False
        return all(_names_only_references(errors[key], body.get(key)) for key in errors)
    if isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        values = body if isinstance(body, list) else [body]
        if values and all(isinstance(v, dict) for v in values):
            # A refusal of a list of rows as a whole ("a line names an item that is not in
            # this application"): each row names a record by id.
            return all(any(_limited_value(x) for x in v.values()) for v in values)
        return bool(values) and all(_limited_value(v) for v in values)
    if isinstance(errors, list):
        if not isinstance(body, list) or len(body) < len(errors):
            return False
        return all(not e or _names_only_references(e, b) for e, b in zip(errors, body, strict=False))
    return False


def refused_on_meaning(response, case):
    """A 400 to a well-formed request is right when a rule of the workflow refused it
    (its own `code`), or when it names only ids and numbers: the schema promises shape."""
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if body.get("code") not in SHAPE_CODES:
        return True
    fields = {k: v for k, v in body.items() if k not in ("detail", "code", "rules", "non_field_errors")}
    sent = {**(case.query or {}), **(case.body if isinstance(case.body, dict) else {})}
    return bool(fields) and _names_only_references(fields, sent)


def refused_on_content(response, case):
    """An upload whose file is too large or not of an allowed type (read from its
    bytes): the schema says a file, not which bytes."""
    body = case.operation.definition.raw.get("requestBody", {}).get("content", {})
    return response.status_code in (413, 415) and "multipart/form-data" in body


def _keys(value):
    if isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from _keys(child)
    elif isinstance(value, list):
        for child in value:
            yield from _keys(child)


def control_character_in_a_key(response, case):
    """A map's keys (criteria of a score sheet) are texts, refused with a control
    character like any text; OpenAPI 3.0 has no way to say a key's pattern."""
    return response.status_code == 400 and any(FORBIDDEN.search(str(k)) for k in _keys(case.body))


def wrong_credentials(response, case):
    """Signing in with a well-formed but wrong password (schemathesis lets credential
    refusals pass when it recognises a token endpoint; it does not recognise this one)."""
    return response.status_code == 400 and case.operation.path == "/api/v1/auth/token/"


@schemathesis.check
def well_formed_data_accepted(ctx, response, case):
    """schemathesis's positive_data_acceptance, with the refusals above."""
    if case.meta is not None and case.meta.generation.mode.is_positive:
        if response.status_code == 400 and refused_on_meaning(response, case):
            return None
        if refused_on_content(response, case) or wrong_credentials(response, case):
            return None
        if response.status_code == 412 and "If-Match" in (case.headers or {}):
            # An ETag that is not the object's: the precondition fails, as documented.
            return None
        if control_character_in_a_key(response, case):
            return None
    return positive_data_acceptance(ctx, response, case)


# All four of issue 22: valid data accepted, invalid data refused, every status and
# every body as the schema says (and never a server error).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    well_formed_data_accepted,
    negative_data_rejection,
]
ROLES = ["applicant", "officer", "manager", "finance", "auditor", "anonymous"]


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, called in this thread. The test runs without a wrapping
    transaction, as production does (upload views are deliberately non-atomic), and like
    Django's test client the request signals leave the test's connection open."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def records(world):
    """Records in every state for the generated requests to hit (not only 404s)."""
    world.application()
    world.application(submitted=True)
    world.application(training=True)
    ready = world.application(ready=True)
    approved = world.application(approved=True)
    delivered = world.application(delivered=True)
    world.application(follow_up=True)
    world.application(
        applicant=world.person2, programme=world.other_programme, assigned_officer=world.officer2
    )
    DocumentFactory(application=ready)
    DocumentFactory(application=approved, kind="supplier_quote")
    TrainingCohortFactory(programme=world.programme, centre=world.centre)
    return {"delivered": delivered}


def id_pools():
    return {
        "applications": list(GrantApplication.objects.values_list("pk", flat=True)),
        "documents": list(Document.objects.values_list("pk", flat=True)),
        "cohorts": list(TrainingCohort.objects.values_list("pk", flat=True)),
        "visits": list(MonitoringVisit.objects.values_list("pk", flat=True)),
        "applicants": list(Applicant.objects.values_list("pk", flat=True)),
    }


def known_path_parameters(operation, pools):
    """Real ids for the operation's path (its first segment names the kind), and real
    transition names: requests that reach the code behind the 404."""
    path = operation.path
    names = {p.name for p in operation.path_parameters}
    if not names:
        return None
    kind = path.split("/")[3]
    strategies = {}
    if "pk" in names and pools.get(kind):
        strategies["pk"] = st.sampled_from(pools[kind])
    if "id" in names and pools.get(kind):
        strategies["id"] = st.sampled_from(pools[kind])
    if "name" in names:
        strategies["name"] = st.sampled_from(TRANSITION_NAMES)
    if "fmt" in names:
        strategies["fmt"] = st.sampled_from(["csv", "xlsx", "pdf", "json"])
    if set(strategies) != names:
        return None
    return st.fixed_dictionaries(strategies)


def token_for(world, role):
    if role == "anonymous":
        return None
    user = {
        "applicant": world.applicant,
        "officer": world.officer,
        "manager": world.manager,
        "finance": world.finance,
        "auditor": world.auditor,
    }[role]
    return api_key(user)


def run_operation(operation, headers, pools, failures, examples):
    strategies = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    known = known_path_parameters(operation, pools)
    if known is not None:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies.append(
                known.flatmap(
                    lambda params, mode=mode: operation.as_strategy(
                        generation_mode=mode, path_parameters=params
                    )
                )
            )

    @settings(
        max_examples=examples * len(strategies),
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def exercise(case):
        if IDEMPOTENCY_KEY.match(str((case.headers or {}).get("Idempotency-Key", ""))):
            # A generated key repeats across examples; a reused key is refused (422) by design.
            case.headers["Idempotency-Key"] = str(uuid.uuid4())
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            failures.append(f"{operation.label}: {group.args[0].strip()[:1500]}")

    exercise()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
def test_generated_requests_get_no_server_error_and_match_the_schema(role, world, records, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    token = token_for(world, role)
    headers = {"Authorization": f"Token {token}"} if token else {}
    pools = id_pools()
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    # Signing out revokes the token the other operations are sent with: it goes last.
    operations.sort(key=lambda operation: operation.path.startswith("/api/v1/auth/token"))
    for operation in operations:
        # Without a token every request is a 401 before any input is read: one example each.
        run_operation(operation, headers, pools, failures, EXAMPLES if token else 1)
    if failures and os.environ.get("FUZZ_REPORT"):
        with open(os.environ["FUZZ_REPORT"], "a") as report:
            report.write(f"=== {role}\n" + "\n\n".join(failures) + "\n")
    assert failures == [], f"{len(failures)} failure(s):\n\n" + "\n\n".join(failures[:15])


REJECTED_TEXT = ["x" * 20000, "nul\x00byte", "\x1b[31mred\x07", "\u202eevil\u202c", "   "]
VERBATIM_TEXT = ["<script>alert(1)</script>", "' OR 1=1 --", 'Đorđe & Šćepan\'s "Kafana"']
BAD_NUMBERS = ["-1", "1e309", "NaN", "Infinity", "12.345", "9" * 40, "abc", None, [], {}, True]


def draft_body(world, **changes):
    body = {
        "programme": world.programme.pk,
        "business_name": "Bakery",
        "sector": "food",
        "plan": {"activity": "Bread", "expected_monthly_revenue": "900.00", "jobs_planned": 1},
        "items": [{"description": "Oven", "quantity": 1, "unit_cost": "1450.00"}],
    }
    for path, value in changes.items():
        target = body
        *parents, last = path.split(".")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[last] = value
    return body


def registration_body(world, **changes):
    return {
        "first_name": "Ana",
        "last_name": "Kovač",
        "date_of_birth": "1990-01-01",
        "centre": world.centre.pk,
        "target_groups": ["returnee"],
        "consent_given": True,
        "special_consents": ["return"],
        **changes,
    }


def assert_field_error(response, field, value=None):
    assert response.status_code == 400, (
        field,
        repr(value)[:40],
        response.status_code,
        response.content[:300],
    )
    body = response.json()
    assert body["detail"]
    assert field in body, (field, body)


TEXT_FIELDS = [
    ("registration", "first_name", "first_name"),
    ("registration", "municipality", "municipality"),
    ("draft", "business_name", "business_name"),
    ("draft", "plan.activity", "plan"),
    ("draft", "items.0.description", "items"),
]


# Blank is fine for optional texts; everything else in REJECTED_TEXT is refused anywhere.
OPTIONAL_TEXTS = {"municipality", "plan.activity"}


def post_form(world, api, form, path, value):
    if form == "registration":
        body = registration_body(world, **{path: value})
        return api(world.officer).post("/api/v1/applicants/", body, format="json")
    return api(world.applicant).post(
        "/api/v1/applications/", draft_body(world, **{path: value}), format="json"
    )


def counts():
    return Applicant.objects.count(), GrantApplication.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize(("form", "path", "field"), TEXT_FIELDS)
def test_hostile_text_gets_a_field_error_and_changes_nothing(world, api, form, path, field):
    before = counts()
    for value in REJECTED_TEXT:
        if value.isspace() and path in OPTIONAL_TEXTS:
            continue
        assert_field_error(post_form(world, api, form, path, value), field, value)
    assert counts() == before


@pytest.mark.parametrize("value", VERBATIM_TEXT, ids=repr)
def test_html_and_quotes_are_stored_as_text_verbatim(world, api, value):
    client = api(world.applicant)
    created = client.post("/api/v1/applications/", draft_body(world, business_name=value), format="json")
    assert created.status_code == 201, created.content
    assert client.get(f"/api/v1/applications/{created.json()['id']}/").json()["business_name"] == value


NUMBER_FIELDS = [
    ("registration", "household_size", "household_size"),
    ("registration", "centre", "centre"),
    ("draft", "items.0.quantity", "items"),
    ("draft", "items.0.unit_cost", "items"),
    ("draft", "plan.expected_monthly_revenue", "plan"),
    ("draft", "plan.jobs_planned", "plan"),
    ("draft", "programme", "programme"),
]


@pytest.mark.parametrize(("form", "path", "field"), NUMBER_FIELDS)
def test_wrong_numbers_get_a_field_error_and_change_nothing(world, api, form, path, field):
    before = counts()
    for value in BAD_NUMBERS:
        # The expected revenue is optional: an empty value is fine.
        if value is None and path == "plan.expected_monthly_revenue":
            continue
        assert_field_error(post_form(world, api, form, path, value), field, value)
    assert counts() == before


def test_a_transition_comment_with_control_characters_is_refused(world, api):
    app = world.application(submitted=True)
    response = api(world.officer).post(
        f"/api/v1/applications/{app.pk}/transitions/return_for_changes/",
        {"comment": "ok\x1b[2J"},
        format="json",
    )
    assert_field_error(response, "comment")
    app.refresh_from_db()
    assert app.state == "submitted"


def test_a_body_that_is_not_an_object_is_a_400(world, api):
    response = api(world.applicant).post("/api/v1/applications/", ["not", "an", "object"], format="json")
    assert response.status_code == 400
    assert response.json()["detail"]


# ---- the web forms ------------------------------------------------------------------------


def form_classes():
    import inspect

    from django import forms

    import applicants.forms
    import assessments.forms
    import grants.forms

    found = []
    for module in (applicants.forms, grants.forms, assessments.forms):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.Form) and cls.__module__ == module.__name__:
                found.append(pytest.param(cls, id=f"{module.__name__}.{name}"))
    return found


def form_arguments(cls):
    """What each form's constructor asks for, from the records `world` made."""
    import inspect

    from applicants.models import IntegrationCentre
    from assessments.models import RubricCriterion, TrainingSession
    from assessments.selectors import age_bands_of
    from grants.models import EquipmentItem, Programme
    from grants.views.timeline import ACTION_LABELS

    supplies = {
        "centres": lambda: IntegrationCentre.objects.all(),
        "programmes": lambda: Programme.objects.all(),
        "applications": lambda: GrantApplication.objects.select_related("applicant"),
        "cohorts": lambda: TrainingCohort.objects.all(),
        "rubric": lambda: RubricCriterion.objects.all()[:5],
        "officers": lambda: get_user_model().objects.all(),
        "items": lambda: EquipmentItem.objects.all()[:3],
        "action_labels": lambda: ACTION_LABELS,
        "applicants": lambda: Applicant.objects.all()[:5],
        "sessions": lambda: TrainingSession.objects.all()[:5],
        "bands": lambda: age_bands_of(Programme.objects.first()),
    }
    kwargs = {}
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
            assert name in supplies, f"{cls.__name__}({name}=...): add it to form_arguments"
            kwargs[name] = supplies[name]()
    return kwargs


FORM_HOSTILE = [
    "x" * 100000,
    "nul\x00byte",
    "<script>alert(1)</script>",
    "1e309",
    "NaN",
    "-1",
    "9" * 40,
    "0000-13-45",
]


@pytest.mark.parametrize("form_class", form_classes())
def test_hostile_values_in_any_web_form_give_field_errors_never_an_exception(world, form_class):
    """Every field of every form of the web interface, one hostile value at a time: the
    form validates without raising, and a value that cannot be right for the field (too
    long, a NUL character, not a number, not a choice, not a date) is an error on it."""
    from django import forms

    world.application(training=True)
    kwargs = form_arguments(form_class)
    fields = form_class(**kwargs).fields
    assert fields
    for name, field in fields.items():
        if isinstance(field, forms.FileField | forms.BooleanField):
            continue
        for value in FORM_HOSTILE:
            form = form_class(data={name: value}, **kwargs)
            form.is_valid()
            must_refuse = (
                "\x00" in value
                or (getattr(field, "max_length", None) and len(value) > field.max_length)
                or (isinstance(field, forms.IntegerField | forms.DecimalField) and value in ("1e309", "NaN"))
                or (isinstance(field, forms.IntegerField | forms.DecimalField) and len(value) > 30)
                or (isinstance(field, forms.DateField) and not value[:1].isdigit())
                or (isinstance(field, forms.DateField) and value == "0000-13-45")
                or (isinstance(field, forms.ChoiceField) and value not in {str(k) for k, _ in field.choices})
            )
            if must_refuse:
                assert name in form.errors, (name, repr(value)[:30], form.errors.get(name))
