"""Two promises every page and API answer keeps, checked over every URL the permission
matrix knows, role by role:

- nothing the app answers may be stored by a browser or proxy (`Cache-Control: private,
  no-store`), while static files stay cacheable;
- no value typed into a form or a query string gives a 5xx: not a word where a number
  belongs, an impossible date, a number beyond any id, a NUL character, a huge text.

tests/test_schema_fuzz.py does the second for the API's documented bodies with
schemathesis; here are the web forms and every query string.
"""

import copy

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from .module_world import module_world, use_module_media
from .test_permission_matrix import (
    MATRIX,
    PROCUREMENT_ANSWERS,
    RELATIONS,
    ROLES,
    MatrixWorld,
    api_client,
    body_for,
    query_for,
    url_for,
)

pytestmark = pytest.mark.django_db

# What people (or scripts) type where something else is expected.
GARBAGE = [
    "abc",
    "-1",
    "99999999999999999999999999",
    "1e309",
    "2026-13-45",
    "a\x00b",
    "x" * 5000,
    "",
]
# Names the web forms and filters read, beside those of each form's valid body.
FIELD_NAMES = [
    "officer",
    "applicant",
    "programme",
    "centre",
    "cohort",
    "application",
    "session",
    "state",
    "q",
    "page",
    "by",
    "figure",
    "show",
    "next",
    "decision",
    "comment",
    "transition",
    "kind",
    "confirmed",
    "date_from",
    "date_to",
    "year",
    "items-TOTAL_FORMS",
    "items-INITIAL_FORMS",
    "items-0-id",
    "items-0-quantity",
    "items-0-unit_cost",
    "lines-TOTAL_FORMS",
    "lines-INITIAL_FORMS",
    "lines-0-item",
    "lines-0-quantity",
    "lines-0-actual_unit_cost",
    "sessions-TOTAL_FORMS",
    "sessions-INITIAL_FORMS",
    "sessions-0-date",
    "date_of_birth",
    "delivered_on",
    "visited_on",
    "jobs_owner",
    "score_viability",
    "add_row",
]


@pytest.fixture(scope="module")
def hworld(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("hardening-media")
    with module_world(django_db_blocker, media, MatrixWorld) as world:
        world.media = media
        yield world


@pytest.fixture(autouse=True)
def _module_storage(_isolated_services, settings, hworld):
    use_module_media(settings, hworld.media)


def client_for(world, role):
    # Answers as a browser gets them: a failure is the 500 page, not an exception.
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.cookies = copy.deepcopy(world.sessions[role])
    return client


def first_relation(role, obj_kind):
    if not obj_kind:
        return "-"
    return "same" if role == "anonymous" else RELATIONS[role][0 if role in ("finance", "auditor") else 1]


def target(world, name, obj_kind, role):
    """The URL for this role's own-centre object (or none), and the owner's objects."""
    relation = first_relation(role, obj_kind)
    owned = world.owned[world.owner(role, relation)] if obj_kind else world.owned["P"]
    return url_for(name, obj_kind, owned if obj_kind else None), owned


def web_rows():
    """Each web URL once, with the kind of object its id names."""
    seen = {}
    for name, _method, obj_kind, *_cells in MATRIX:
        if not name.startswith("api:"):
            seen.setdefault(name, obj_kind)
    return sorted(seen.items())


def shown(response):
    return f"{response.status_code} {getattr(response, 'exc_info', None) and response.exc_info[1]!r}"


# ---- no-store -------------------------------------------------------------------------


def assert_not_stored(response, url):
    cache_control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= cache_control, f"{url}: Cache-Control {response.get('Cache-Control')!r}"
    assert response.get("Pragma") == "no-cache", url


@pytest.mark.parametrize("role", ROLES)
def test_no_page_or_api_answer_may_be_stored(hworld, role):
    """Every GET in the matrix, pages and API, as each role: allowed or refused, every
    answer (with a name in it or not) tells caches not to keep it."""
    client = client_for(hworld, role)
    user = None if role == "anonymous" else hworld.users[role]
    api = api_client(user)
    answered = set()
    for name, method, obj_kind, *_cells in MATRIX:
        if method != "GET":
            continue
        url, owned = target(hworld, name, obj_kind, role)
        query = query_for(name, owned)
        response = api.get(url, query) if name.startswith("api:") else client.get(url, query)
        assert_not_stored(response, url)
        answered.add(response.status_code)
    assert 200 in answered


def test_a_form_answer_with_what_was_typed_is_not_stored(hworld):
    """The sign-up form sent back with its errors holds the name and phone typed in."""
    response = Client().post(reverse("signup"), {"first_name": "Marko", "phone": "+381641234567"})
    assert response.status_code == 400
    assert "+381641234567" in response.content.decode()
    assert_not_stored(response, "signup")


def test_the_views_that_set_no_store_themselves_keep_it(hworld):
    owned = hworld.owned["P"]
    response = api_client(hworld.users["applicant"]).get(url_for("api:document-download", "doc", owned))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_static_files_stay_cacheable(tmp_path):
    with override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
        response = Client().get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert "max-age" in response["Cache-Control"]


# ---- no 5xx on any value --------------------------------------------------------------


# For those the row refuses anyway, a few values: the refusal must come before any
# parsing that could fail.
FEW = ["abc", "99999999999999999999999999", "a\x00b"]


def reaches(name, role, methods=("GET", "POST")):
    """Whether the matrix lets this role through to the view's work on its object."""
    relation = first_relation(role, True)
    for row_name, method, obj_kind, anon, *by_role in MATRIX:
        if row_name != name or method not in methods:
            continue
        if len(by_role) == len(ROLES) - 2:  # (a row written before the procurement officer)
            by_role = [*by_role, PROCUREMENT_ANSWERS[(row_name, method, obj_kind)]]
        cells = dict(zip(ROLES, [str(anon), *by_role], strict=True))[role].split()
        relations = RELATIONS[role] if obj_kind and role != "anonymous" else ["-"]
        value = dict(zip(relations, cells, strict=True)).get(relation, cells[0])
        if value in ("ok", "200", "201"):
            return True
    return False


def posted(world, name, obj_kind, role):
    """The keys the row's valid body sends, for this role's object."""
    _url, owned = target(world, name, obj_kind, role)
    body = body_for(name, "POST", owned, world) or {}
    return {key: value for key, value in body.items() if not hasattr(value, "read")}


def web_cases():
    for name, obj_kind in web_rows():
        for role in ROLES:
            yield pytest.param(name, obj_kind, role, id=f"{name} {role}")


@pytest.mark.parametrize(("name", "obj_kind", "role"), list(web_cases()))
def test_no_form_value_gives_a_server_error(hworld, name, obj_kind, role):
    """POST every garbage value to every web URL as every role: once in every field name
    the forms read at the same time, then in each field of the form's valid body alone
    (the rest valid, so the value reaches the form's deeper checks and the service)."""
    client = client_for(hworld, role)
    url, _owned = target(hworld, name, obj_kind, role)
    through = reaches(name, role, ("POST",))
    valid = posted(hworld, name, obj_kind, role) if through else {}
    for value in GARBAGE if through else FEW:
        everywhere = {field: value for field in [*FIELD_NAMES, *valid]}
        response = client.post(url, everywhere)
        assert response.status_code < 500, f"POST {url} with {value[:20]!r} everywhere: {shown(response)}"
        for field in valid:
            response = client.post(url, {**valid, field: value})
            assert response.status_code < 500, f"POST {url} {field}={value[:20]!r}: {shown(response)}"


@pytest.mark.parametrize(("name", "obj_kind", "role"), list(web_cases()))
def test_no_query_string_gives_a_server_error(hworld, name, obj_kind, role):
    client = client_for(hworld, role)
    url, _owned = target(hworld, name, obj_kind, role)
    for value in GARBAGE if reaches(name, role) else FEW:
        response = client.get(url, {field: value for field in FIELD_NAMES})
        assert response.status_code < 500, f"GET {url} with {value[:20]!r}: {shown(response)}"


@pytest.mark.parametrize("officer", ["abc", "", "99999999999999999999999999", "1.5"])
def test_reassigning_to_something_not_an_officer_says_so_and_changes_nothing(hworld, officer):
    application = hworld.owned["P"].apps["draft"]
    before = application.assigned_officer_id
    client = client_for(hworld, "manager")
    response = client.post(
        reverse("application-reassign", args=[application.pk]), {"officer": officer}, follow=True
    )
    assert response.status_code == 200
    assert "Choose a field officer of the application&#x27;s centre." in response.content.decode()
    application.refresh_from_db()
    assert application.assigned_officer_id == before


def api_get_rows():
    for name, method, obj_kind, *_cells in MATRIX:
        if name.startswith("api:") and method == "GET":
            for role in ROLES[1:]:
                if reaches(name, role, ("GET",)):
                    yield pytest.param(name, obj_kind, role, id=f"{name} {role}")


API_FILTERS = ["page", "page_size", "state", "programme", "centre", "applicant", "q", "search", "ordering"]
API_FILTERS += ["date_from", "date_to", "year", "since", "until", "action", "application", "format", "by"]


@pytest.mark.parametrize(("name", "obj_kind", "role"), list(api_get_rows()))
def test_no_api_filter_value_gives_a_server_error(hworld, name, obj_kind, role):
    """The API's filters, documented or not, with garbage: a 400 naming the filter or
    the value ignored, never a 5xx (schemathesis sends only the documented ones)."""
    client = api_client(hworld.users[role])
    client.raise_request_exception = False
    url, _owned = target(hworld, name, obj_kind, role)
    for value in GARBAGE:
        response = client.get(url, {field: value for field in API_FILTERS})
        assert response.status_code < 500, f"GET {url} with {value[:20]!r}: {shown(response)}"
