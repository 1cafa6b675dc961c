"""docs/api.md names every endpoint the served schema has (docs/api.md, "The schema and
its version"): an endpoint added without its line in the table fails here."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def test_it_lists_every_path_of_the_schema_in_docs_api_md(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    docs = DOCS.read_text()
    missing = [path for path in schema["paths"] if path.removeprefix("/api/v1/") not in docs]
    assert missing == [], f"add these to docs/api.md's endpoint table: {missing}"
    assert len(schema["paths"]) > 50


def test_its_version_is_the_newest_of_the_changelog(client, settings):
    schema = client.get("/api/v1/schema/?format=json").json()
    version = schema["info"]["version"]
    assert version == settings.SPECTACULAR_SETTINGS["VERSION"]
    changelog = DOCS.read_text().split("Changelog:", 1)[1]
    assert changelog.lstrip().startswith(f"- **{version}**")


def test_the_schema_is_valid_openapi_without_generator_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", validate=True, fail_on_warn=True, file=str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").stat().st_size > 100_000
