"""The schema names every field the API answers (issue 22): real answers of the endpoints
whose shape depends on the caller or the query are validated against the served schema
with unknown properties forbidden, so a field the server adds without its schema, a
field marked required that a role does not get, or a money field typed as anything but
a decimal string fails here."""

import copy

import jsonschema
import pytest
from rest_framework.test import APIClient

from audit import trail

from .factories import DocumentFactory, TrainingCohortFactory, api_key

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
