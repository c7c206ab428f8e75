"""Importing a flow file in the admin: a new flow from the Flows list, and over an existing one
with a dry run that names each field it would change."""

import io

import pytest
import yaml

from idp.models import Flow, Stage
from tests.http.admin.conftest import events_of, post, text
from tests.http.admin.test_flows import row_id, signs_in, stage_bindings

NEW_FLOW = {
    "version": 1,
    "stages": [
        {"name": "imported-stop", "type": "deny", "options": {"message": "Imported says no."}}
    ],
    "flow": {
        "slug": "imported-gate",
        "name": "Imported gate",
        "title": "Imported",
        "designation": "authentication",
        "stages": [{"stage": "imported-stop", "order": 10}],
    },
}


def upload(admin, url: str, document: dict):
    data = {"file": (io.BytesIO(yaml.safe_dump(document).encode()), "flow.yaml")}
    return post(admin, url, data)


def test_the_flows_list_offers_to_import_a_new_flow(admin):
    page = text(admin.get("/admin/flows"))
    assert 'href="/admin/flows/import"' in page
    assert "Import a flow" in text(admin.get("/admin/flows/import"))


def test_a_new_flow_is_previewed_then_created_on_confirmation(app, admin):
    preview = upload(admin, "/admin/flows/import", NEW_FLOW)
    assert preview.status_code == 200
    page = text(preview)
    assert "Create the flow imported-gate" in page and "Create the stage imported-stop" in page
    assert row_id(app, Flow, slug="imported-gate") is None  # a dry run writes nothing
    assert row_id(app, Stage, name="imported-stop") is None
    content = yaml.safe_dump(NEW_FLOW)
    confirmed = post(admin, "/admin/flows/import/confirm", {"content": content})
    assert (confirmed.status_code, confirmed.headers["Location"]) == (
        303,
        "/admin/flows/imported-gate/",
    )
    assert stage_bindings(app, "imported-gate") == [("imported-stop", 10)]
    (event,) = events_of(app, "admin_flow_imported")
    assert event.detail["after"]["stages"] == ["10: imported-stop"]
    ok, page = signs_in(app, "nobody", "imported-gate")
    assert not ok and "Imported says no." in page


def test_a_file_for_a_flow_that_exists_is_sent_to_that_flows_page(app, admin):
    existing = NEW_FLOW | {"flow": NEW_FLOW["flow"] | {"slug": "default-authentication-flow"}}
    for url in ("/admin/flows/import", "/admin/flows/import/confirm"):
        if url.endswith("confirm"):
            response = post(admin, url, {"content": yaml.safe_dump(existing)})
        else:
            response = upload(admin, url, existing)
        assert response.status_code == 400
        assert "exists already" in text(response) and "Import tab" in text(response)
    assert row_id(app, Stage, name="imported-stop") is None


def test_a_bad_new_flow_file_gets_its_problems_and_writes_nothing(app, admin):
    bad = NEW_FLOW | {"flow": NEW_FLOW["flow"] | {"designation": "nonsense"}}
    response = upload(admin, "/admin/flows/import", bad)
    assert response.status_code == 400
    assert "flow.designation" in text(response)
    response = post(admin, "/admin/flows/import/confirm", {"content": "flow: [unclosed"})
    assert response.status_code == 400 and "not valid YAML" in text(response)
    assert row_id(app, Flow, slug="imported-gate") is None


def test_the_dry_run_names_each_field_it_would_change(app, admin):
    assert post(admin, "/admin/flows/import/confirm", {"content": yaml.safe_dump(NEW_FLOW)})
    changed = yaml.safe_load(text(admin.get("/admin/flows/imported-gate/export.yaml")))
    changed["flow"]["title"] = "Welcome back"
    changed["flow"]["stages"][0]["evaluate_on_plan"] = True
    changed["flow"]["stages"].append({"stage": "default-authentication-login", "order": 20})
    (stop,) = [stage for stage in changed["stages"] if stage["name"] == "imported-stop"]
    stop["options"]["message"] = "Go away."
    page = text(upload(admin, "/admin/flows/imported-gate/import", changed))
    assert "Change the flow imported-gate" in page
    assert "title: &#39;Imported&#39; → &#39;Welcome back&#39;" in page
    assert "stage imported-stop: evaluate_on_plan: no → yes" in page
    assert "stage default-authentication-login bound at 20" in page
    assert "Change the stage imported-stop" in page
    assert "options.message: &#39;Imported says no.&#39; → &#39;Go away.&#39;" in page
    # What stays the same is listed without details.
    assert "slug:" not in page.split("Change the flow imported-gate", 1)[1].split("</li>", 1)[0]


@pytest.mark.parametrize("url", ["/admin/flows/import", "/admin/flows/imported-gate/import"])
def test_an_authentik_blueprint_is_sent_to_the_command_line(app, admin, url):
    # A real blueprint's tags (!Find, !KeyOf) were a YAML error that did not say why.
    post(admin, "/admin/flows/import/confirm", {"content": yaml.safe_dump(NEW_FLOW)})
    blueprint = (
        "version: 1\nentries:\n  - model: authentik_flows.flowstagebinding\n"
        "    identifiers: {target: !Find [authentik_flows.flow, [slug, x]], order: 10}\n"
    )
    data = {"file": (io.BytesIO(blueprint.encode()), "blueprint.yaml")}
    response = post(admin, url, data)
    assert response.status_code == 400
    assert "an authentik blueprint is imported with `idp flows import`" in text(response)
