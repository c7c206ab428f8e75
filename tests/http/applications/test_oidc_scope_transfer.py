"""Scope mappings in Gatehouse's own flow files: imported by name with the applications that
offer them, checked as the admin checks them, exported with the application."""

import pytest
import yaml
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import ScopeMapping

FILE = """
version: 1
scope_mappings:
  - name: nextcloud
    description: Your storage quota
    expression: '{"quota": user.attributes.get("quota", "1 GB")}'
applications:
  - slug: cloud
    name: Nextcloud
    provider:
      type: oauth2
      options:
        redirect_uris: ["https://cloud.example.test/callback"]
        scope_mappings: [nextcloud]
"""


def write(tmp_path, text, name="cloud.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def mappings(app) -> dict:
    with app.app_context():
        return {
            row.name: (row.description, row.expression)
            for row in db.session.scalars(select(ScopeMapping))
        }


def test_import_creates_the_scope_mapping_and_a_second_import_changes_nothing(
    app, runner, tmp_path
):
    path = write(tmp_path, FILE)
    result = runner.invoke(args=["flows", "import", path])
    assert result.exit_code == 0, result.output
    assert "create    scope_mapping nextcloud" in result.output
    assert mappings(app) == {
        "nextcloud": ("Your storage quota", '{"quota": user.attributes.get("quota", "1 GB")}')
    }
    again = runner.invoke(args=["flows", "import", path])
    assert "unchanged scope_mapping nextcloud" in again.output
    changed = write(tmp_path, FILE.replace("Your storage quota", "Quota"), "changed.yaml")
    assert (
        "update    scope_mapping nextcloud"
        in runner.invoke(args=["flows", "import", changed]).output
    )
    assert mappings(app)["nextcloud"][0] == "Quota"


def test_export_carries_the_offered_scope_mappings_and_round_trips(app, runner, tmp_path):
    runner.invoke(args=["flows", "import", write(tmp_path, FILE)])
    exported = runner.invoke(args=["apps", "export", "cloud"])
    assert exported.exit_code == 0, exported.output
    document = yaml.safe_load(exported.output)
    assert document["scope_mappings"] == [
        {
            "name": "nextcloud",
            "description": "Your storage quota",
            "expression": '{"quota": user.attributes.get("quota", "1 GB")}',
        }
    ]
    runner.invoke(args=["apps", "delete", "cloud"])
    with app.app_context():
        db.session.query(ScopeMapping).delete()
        db.session.commit()
    result = runner.invoke(args=["flows", "import", write(tmp_path, exported.output, "x.yaml")])
    assert "create    scope_mapping nextcloud" in result.output, result.output
    assert "create    application cloud" in result.output


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ("scope_mappings: [nextcloud]", "scope_mappings: [ghost]"),
            "applications[0].provider.options.scope_mappings: no scope mapping named 'ghost'",
        ),
        (
            ('\'{"quota"', '\'{"quota" +'),
            "scope_mappings[0].expression: is not a valid expression",
        ),
        (("- name: nextcloud", "- name: email"), "email is a scope Gatehouse has built in"),
        (
            ("scope_mappings: [nextcloud]", "scope_mappings: [email]"),
            "scope_mappings[0]: email is a scope Gatehouse has built in",
        ),
    ],
)
def test_a_bad_scope_mapping_is_named_and_nothing_is_written(
    app, runner, tmp_path, change, problem
):
    result = runner.invoke(args=["flows", "import", write(tmp_path, FILE.replace(*change))])
    assert result.exit_code == 2
    assert problem in result.output
    assert mappings(app) == {}
