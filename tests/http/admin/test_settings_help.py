"""Each setting of every stage and policy type is explained on the page that edits it: its
help text next to it, and its choices in words, e.g. the validate stage's
not_configured_action."""

import dataclasses
import re

import pytest
from markupsafe import escape

from idp.core.options import help_of
from idp.policies.registry import POLICY_TYPES
from idp.providers.registry import PROVIDER_TYPES
from idp.stages.registry import STAGE_TYPES
from tests.http.admin.conftest import text

PAGES = (
    [(f"/admin/stages/new/{name}", kind) for name, kind in sorted(STAGE_TYPES.items())]
    + [(f"/admin/policies/new/{name}", kind) for name, kind in sorted(POLICY_TYPES.items())]
    + [(f"/admin/applications/new/{name}", kind) for name, kind in sorted(PROVIDER_TYPES.items())]
)


@pytest.mark.parametrize(("url", "kind"), PAGES, ids=[url.rsplit("/", 1)[1] for url, _ in PAGES])
def test_every_setting_shows_its_help_text(admin, url, kind):
    page = text(admin.get(url))
    for option in dataclasses.fields(kind.Options):
        assert str(escape(help_of(option))) in page, f"{option.name}: no help on {url}"


def test_a_setting_is_tied_to_its_help_for_screen_readers(admin):
    page = text(admin.get("/admin/stages/new/email"))
    field = re.search(r'<input[^>]*name="option-activate_user_on_success"[^>]*>', page).group(0)
    assert 'aria-describedby="option-activate_user_on_success-help"' in field
    assert 'id="option-activate_user_on_success-help"' in page


def test_not_configured_action_is_explained_in_words(admin):
    page = text(admin.get("/admin/stages/new/authenticator_validate"))
    select = page.split('name="option-not_configured_action"', 1)[1].split("</select>", 1)[0]
    assert '<option selected value="skip">Skip: let them go on without a second factor' in select
    assert 'value="deny">Deny: stop the flow, they cannot go on' in select
    assert 'value="configure">Configure: have them set up an authenticator app now' in select
    assert "What happens to a user who has no authenticator" in page
    boxes = page.split("<legend>Device classes</legend>", 1)[1].split("</fieldset>", 1)[0]
    assert "Passkeys and security keys" in boxes and "Recovery codes" in boxes
