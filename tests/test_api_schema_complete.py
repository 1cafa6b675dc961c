"""The schema names every field the API answers (issue 22): real answers of the endpoints
whose shape depends on the caller or the query are validated against the served schema
with unknown properties forbidden, so a field the server adds without its schema, a
field marked required that a role does not get, or a money field typed as anything but
a decimal string fails here."""

import copy
from decimal import Decimal

import jsonschema
import pytest
from rest_framework.test import APIClient

from applicants import roles, service_accounts
from audit import trail
from grants import services as grant_services
from integrations import services as integration_services
from reports.models import Definition, DonorReport, Indicator, IndicatorTarget

from .factories import (
    ApplicantFactory,
    CentreFactory,
    DocumentFactory,
    ProgrammeFactory,
    TrainingCohortFactory,
    api_key,
    today,
)

pytestmark = pytest.mark.django_db


def closed(schema, components, seen=()):
    """The OpenAPI 3.0 schema as JSON Schema: references inlined, `nullable` as a type,
    and objects that list their properties closed to any other."""
    if isinstance(schema, list):
        return [closed(s, components, seen) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        assert name not in seen, f"recursive schema {name}"
        return closed(components[name], components, (*seen, name))
    result = {k: closed(v, components, seen) for k, v in schema.items() if k not in ("nullable", "readOnly")}
    if schema.get("nullable"):
        result = {"anyOf": [result, {"type": "null"}]}
    elif "properties" in schema and "additionalProperties" not in schema:
        result["additionalProperties"] = False
    return result


@pytest.fixture
def schema(client):
    return client.get("/api/v1/schema/?format=json").json()


def answer_schema(schema, path, status="200"):
    content = schema["paths"][path]["get"]["responses"][status]["content"]["application/json"]
    return closed(copy.deepcopy(content["schema"]), schema["components"]["schemas"])


def get(user, url):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response.json()


@pytest.fixture
def records(world):
    submitted = world.application(submitted=True)
    trail.record(
        action="note",
        actor=world.officer,
        application=submitted,
        applicant=submitted.applicant,
        on_behalf_of=submitted.applicant,
        comment="Called the applicant.",
    )
    approved = world.application(approved=True)
    delivered = world.application(delivered=True)
    follow_up = world.application(follow_up=True)
    DocumentFactory(application=approved)
    TrainingCohortFactory(programme=world.programme, centre=world.centre)
    return {"delivered": delivered.pk, "follow_up": follow_up.pk}


CASES = [
    ("manager", "/api/v1/reports/budget/", "/api/v1/reports/budget/"),
    ("finance", "/api/v1/reports/budget/", "/api/v1/reports/budget/"),
    ("auditor", "/api/v1/reports/budget/", "/api/v1/reports/budget/"),
    ("manager", "/api/v1/reports/impact/", "/api/v1/reports/impact/"),
    ("auditor", "/api/v1/reports/impact/", "/api/v1/reports/impact/?by=sex"),
    ("manager", "/api/v1/reports/impact/", "/api/v1/reports/impact/?by=sex,target_group"),
    ("officer", "/api/v1/audit-events/", "/api/v1/audit-events/"),
    ("auditor", "/api/v1/audit-events/", "/api/v1/audit-events/"),
    ("officer", "/api/v1/applications/", "/api/v1/applications/"),
    ("finance", "/api/v1/applications/", "/api/v1/applications/"),
    ("officer", "/api/v1/programmes/", "/api/v1/programmes/"),
    ("auditor", "/api/v1/programmes/", "/api/v1/programmes/"),
    ("applicant", "/api/v1/programmes/", "/api/v1/programmes/"),
    ("officer", "/api/v1/cohorts/", "/api/v1/cohorts/"),
    ("officer", "/api/v1/applicants/", "/api/v1/applicants/"),
    ("officer", "/api/v1/me/", "/api/v1/me/"),
    ("finance", "/api/v1/applications/{id}/deliveries/", "/api/v1/applications/{delivered}/deliveries/"),
    ("officer", "/api/v1/applications/{id}/deliveries/", "/api/v1/applications/{delivered}/deliveries/"),
    ("finance", "/api/v1/applications/{id}/", "/api/v1/applications/{delivered}/"),
    ("officer", "/api/v1/applications/{id}/visits/", "/api/v1/applications/{follow_up}/visits/"),
]


@pytest.mark.parametrize(("role", "path", "url"), CASES, ids=[f"{c[0]}:{c[2]}" for c in CASES])
def test_every_field_of_the_answer_is_in_the_schema(world, records, schema, role, path, url):
    body = get(getattr(world, role), url.format(**records))
    assert body.get("results") != [], "nothing to check"
    errors = sorted(
        jsonschema.Draft202012Validator(answer_schema(schema, path)).iter_errors(body), key=lambda e: e.path
    )
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:10])


# The error shape, or an answer that is the error shape and more: the intake's refused
# submission (422) carries `detail` and `code` and the submission kept for a person.
ERROR_BODIES = [
    {"$ref": "#/components/schemas/Error"},
    {"$ref": "#/components/schemas/RefusedSubmission"},
]


def test_error_extensions_are_the_error_shape_and_more(schema):
    components = schema["components"]["schemas"]
    error = components["Error"]
    for ref in ERROR_BODIES[1:]:
        extended = components[ref["$ref"].rsplit("/", 1)[1]]
        assert set(error["required"]) <= set(extended["required"])
        for name in error["required"]:
            assert extended["properties"][name]["type"] == error["properties"][name]["type"]


def test_every_error_answer_is_documented_with_its_json_body(schema):
    operations = [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]
    for method, path, operation in operations:
        responses = operation["responses"]
        for status in ("400", "401", "403", "404", "409", "503"):
            assert status in responses, (method, path, status)
        for status, response in responses.items():
            if status[0] in "45":
                content = response.get("content", {}).get("application/json", {})
                assert content.get("schema") in ERROR_BODIES, (method, path, status)
    uploads = [
        op for _, _, op in operations if "multipart/form-data" in op.get("requestBody", {}).get("content", {})
    ]
    assert uploads
    for operation in uploads:
        assert {"413", "415", "503"} <= set(operation["responses"])


# ---- answers that were only "object" in the schema (1.1.0) ------------------------------
# Each from real records, role by role, with the lists in it filled, so that every nested
# row is checked too.


@pytest.fixture
def typed_records(world, settings, django_capture_on_commit_callbacks):
    # A grant with its contract issued, a contribution paid and corrected, a registration,
    # and the programme's conditions; one approved before its contract is issued.
    programme = ProgrammeFactory(
        country=world.serbia,
        own_contribution_percent=Decimal("15"),
        contract_rule="before_delivery",
        registration_rule="before_procurement",
    )
    signed = world.application(programme=programme, approved=True)
    grant_services.issue_contract(application=signed, by=world.finance)
    payment = grant_services.record_contribution_payment(
        application=signed, by=world.finance, amount=Decimal("20.00"), paid_on=today(), reference="BS 1"
    )
    grant_services.reverse_contribution_payment(payment=payment, by=world.finance, reason="Wrong amount.")
    grant_services.record_registration(
        application=signed, by=world.officer, number="81012345", registered_on=today()
    )
    unsigned = world.application(programme=programme, approved=True)

    # The ledger of a delivered grant (commitments, lines, suppliers).
    delivered = world.application(delivered=True)

    # Indicators with targets for everybody and per sex, in each unit.
    for code, definition, baseline in (
        ("1", Definition.ENTERPRISES_SUPPORTED, 0),
        ("2", Definition.INVESTMENT_EUR, Decimal("1000.50")),
        ("3", Definition.SURVIVAL_12M, Decimal("0.5")),
    ):
        indicator = Indicator.objects.create(
            programme=world.programme,
            code=code,
            name_en=f"Indicator {code}",
            name_sr_latn=f"Indikator {code}",
            name_sq=f"Tregues {code}",
            definition=definition,
            baseline=baseline,
        )
        IndicatorTarget.objects.create(indicator=indicator, year=today().year, value=3, sex="")
        IndicatorTarget.objects.create(indicator=indicator, year=today().year, value=2, sex="female")

    # Donor reports: one ready (with its files), one waiting.
    for status in (DonorReport.Status.DONE, DonorReport.Status.QUEUED):
        DonorReport.objects.create(
            programme=world.programme,
            date_from=today().replace(month=1, day=1),
            date_to=today().replace(month=12, day=31),
            requested_by=world.manager,
            status=status,
            progress=100 if status == DonorReport.Status.DONE else 0,
        )

    # A case moved by a manager (with its open application), and one asked for.
    moved = world.application(applicant=ApplicantFactory(centre=world.centre), submitted=True)
    grant_services.transfer_case(
        applicant=moved.applicant, to_centre=CentreFactory(country=world.serbia), by=world.manager
    )

    # A webhook delivery of a service account's endpoint.
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    account, key = service_accounts.create_service_account(
        by=world.manager, name="Niš sync", role=roles.FIELD_OFFICER, centres=[world.centre], days=30
    )
    endpoint = integration_services.register_endpoint(
        by=account.user, url="http://127.0.0.1:9/hook", events=["application.transitioned"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        grant_services.take_transition(application=world.application(), name="submit", by=world.applicant)
    world.service = account.user
    world.service_key = key
    return {
        "signed": signed.pk,
        "unsigned": unsigned.pk,
        "delivered": delivered.pk,
        "programme": world.programme.pk,
        "endpoint": endpoint.pk,
    }


def dig(body, path):
    """The values at a dotted path, `*` for every item of a list."""
    values = [body]
    for step in path.split("."):
        values = [v for value in values for v in (value if step == "*" else [value[step]])]
    return values


TYPED = [
    (
        "officer",
        "/api/v1/applications/{id}/contract/",
        "/api/v1/applications/{signed}/contract/",
        ["contribution.payments", "conditions"],
    ),
    (
        "finance",
        "/api/v1/applications/{id}/contract/",
        "/api/v1/applications/{signed}/contract/",
        ["contribution.payments", "conditions"],
    ),
    (
        "manager",
        "/api/v1/applications/{id}/contract/",
        "/api/v1/applications/{signed}/contract/",
        ["contribution.payments", "conditions"],
    ),
    (
        "manager",
        "/api/v1/applications/{id}/contract/",
        "/api/v1/applications/{unsigned}/contract/",
        ["unmet_before_delivery"],
    ),
    (
        "finance",
        "/api/v1/applications/{id}/ledger/",
        "/api/v1/applications/{delivered}/ledger/",
        ["commitments", "lines", "by_supplier"],
    ),
    (
        "manager",
        "/api/v1/applications/{id}/ledger/",
        "/api/v1/applications/{delivered}/ledger/",
        ["commitments", "lines", "by_supplier"],
    ),
    (
        "manager",
        "/api/v1/reports/indicators/",
        "/api/v1/reports/indicators/?programme={programme}",
        ["results", "results.*.progress"],
    ),
    (
        "finance",
        "/api/v1/reports/indicators/",
        "/api/v1/reports/indicators/?programme={programme}",
        ["results", "results.*.progress"],
    ),
    (
        "auditor",
        "/api/v1/reports/indicators/",
        "/api/v1/reports/indicators/?programme={programme}",
        ["results", "results.*.progress"],
    ),
    ("manager", "/api/v1/reports/donor-reports/", "/api/v1/reports/donor-reports/", ["results"]),
    ("finance", "/api/v1/reports/donor-reports/", "/api/v1/reports/donor-reports/", ["results"]),
    ("auditor", "/api/v1/reports/donor-reports/", "/api/v1/reports/donor-reports/", ["results"]),
    ("officer", "/api/v1/transfers/", "/api/v1/transfers/", ["results", "results.*.moved_applications"]),
    ("manager", "/api/v1/transfers/", "/api/v1/transfers/", ["results", "results.*.moved_applications"]),
    ("service", "/api/v1/webhooks/{id}/deliveries/", "/api/v1/webhooks/{endpoint}/deliveries/", ["results"]),
    ("service", "/api/v1/webhooks/", "/api/v1/webhooks/", ["results"]),
]


@pytest.mark.parametrize(("role", "path", "url", "filled"), TYPED, ids=[f"{c[0]}:{c[2]}" for c in TYPED])
def test_the_answers_typed_in_1_1_0_are_their_schema(world, typed_records, schema, role, path, url, filled):
    if role == "service":
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.service_key}")
        response = client.get(url.format(**typed_records))
        assert response.status_code == 200, response.content[:300]
        body = response.json()
    else:
        body = get(getattr(world, role), url.format(**typed_records))
    for where in filled:
        values = dig(body, where)
        assert values and all(values), f"nothing to check at {where}"
    errors = sorted(
        jsonschema.Draft202012Validator(answer_schema(schema, path)).iter_errors(body), key=lambda e: e.path
    )
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:10])


# Free maps kept on purpose, each with its reason. Anything else a request or an answer
# carries has its properties (or typed values) in the schema.
FREE_MAPS = {
    # Field errors come by the request's field names, whichever request was refused.
    "Error": "field errors by field name",
    # The submission as the form server posted it: the questions of whichever form (XLSForm)
    # sent it, kept verbatim to be read and corrected by a person ({"erased": true} after an
    # erasure).
    "SubmissionDetail.payload": "the form server's own submission",
}


def untyped(schema, components):
    """Where a request or an answer is an object without properties, a free map
    (`additionalProperties: true` or {}), an array without items or anything untyped."""
    found = set()

    def walk(node, where, seen):
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            if name not in seen:
                walk(components[name], name, {*seen, name})
            return
        free = node.get("additionalProperties")
        if node.get("type") == "object" or "properties" in node or free is not None:
            if free is True or free == {} or ("properties" not in node and not isinstance(free, dict | bool)):
                found.add(where)
        elif node.get("type") == "array":
            if not node.get("items"):
                found.add(where)
        elif not ({"type", "oneOf", "anyOf", "allOf", "enum"} & set(node)):
            found.add(where)
        for name, child in node.get("properties", {}).items():
            walk(child, f"{where}.{name}", seen)
        for key in ("items", "additionalProperties"):
            if node.get(key):  # ({} is found above)
                walk(node[key], f"{where}[]", seen)
        for child in node.get("oneOf", []) + node.get("anyOf", []) + node.get("allOf", []):
            # A rule between fields ({"required": [...]}, `schema_rules`) types nothing.
            if isinstance(child, dict) and child and set(child) <= {"required", "not"}:
                continue
            walk(child, where, seen)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += list(operation.get("responses", {}).items())
            for status, body in bodies:
                for content in (body.get("content") or {}).values():
                    if "schema" in content:
                        walk(content["schema"], f"{method.upper()} {path} {status}", set())
    return found


def test_no_request_or_answer_is_an_untyped_object(schema):
    found = untyped(schema, schema["components"]["schemas"])
    assert found - set(FREE_MAPS) == set(), "type these (or add them to FREE_MAPS, saying why)"
    assert set(FREE_MAPS) <= found, "a free map kept on purpose is typed now: remove it from FREE_MAPS"


def test_the_untyped_check_finds_a_free_object():
    schema = {
        "paths": {
            "/x/": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "a": {"type": "object", "additionalProperties": {}},
                                            "b": {},
                                            "c": {"type": "array"},
                                        },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
        "components": {"schemas": {}},
    }
    assert untyped(schema, {}) == {"GET /x/ 200.a", "GET /x/ 200.b", "GET /x/ 200.c"}
