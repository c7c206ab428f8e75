"""Real authentik blueprints from public repositories (tests/data/authentik_corpus, origins in
its README): each imports or is refused with its reasons, never a traceback; what is left
out is named; the flows imported answer without a server error; some walk as in authentik.

The summary (strict imports, flows, ranked left-out list) is printed by
`python -m tests.tools.authentik_corpus_report tests/data/authentik_corpus
tests/data/authentik_corpus/origin-only`."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import PASSWORD, make_user
from tests.http.test_authentik_import import MAPPED_MODELS
from tests.tools.authentik_corpus_report import (
    FLOW_CHANGE,
    ORIGIN_ONLY,
    corpus_files,
    left_out_key,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "authentik_corpus"
FILES = corpus_files(CORPUS) if CORPUS.is_dir() else []
MAPPED = MAPPED_MODELS | {
    "authentik_stages_redirect.redirectstage",
    "authentik_core.application",
    "authentik_providers_oauth2.oauth2provider",
    "authentik_providers_proxy.proxyprovider",
}
# Files listed by origin only (their licence does not allow storing them): present when fetched
# into origin-only/, skipped when absent.
ORIGIN_ROW = re.compile(r"^\| (?P<name>[^ |]+__[^ |]+/[^ |]+\.ya?ml) \|", re.MULTILINE)
README = CORPUS / "README.md"
ORIGINS = (
    ORIGIN_ROW.findall(README.read_text().split("## Origins only")[-1]) if README.is_file() else []
)


def corpus_id(path: Path) -> str:
    return str(path.relative_to(CORPUS))


@pytest.mark.skipif(not FILES, reason=f"no blueprints in {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=corpus_id)
def test_each_corpus_blueprint_imports_or_says_why_and_names_what_it_leaves_out(
    app, runner, client, path
):
    check_import(runner, client, path)


@pytest.mark.parametrize("name", ORIGINS)
def test_each_origin_only_blueprint_that_was_fetched_imports_or_says_why(app, runner, client, name):
    path = CORPUS / ORIGIN_ONLY / name
    if not path.is_file():
        pytest.skip(f"{name} is listed by origin only and was not fetched into {path.parent}")
    check_import(runner, client, path)


def check_import(runner, client, path):
    result = runner.invoke(args=["flows", "import", str(path)])
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), result.output
    lines = result.stderr.splitlines()
    if result.exit_code == 2:
        assert lines and all(line.startswith("Error: ") for line in lines)
        return
    assert all(line.startswith(("skipped: ", "resolved: ", "unbound: ")) for line in lines)
    named = "\n".join(lines)
    text = path.read_text()
    models = re.findall(r"^[ \t-]*model: ['\"]?([a-z0-9_]+\.[a-z0-9_]+)", text, re.MULTILINE)
    for model in set(models) - MAPPED:
        assert model in named, model
    for line in lines:
        assert left_out_key(line)
    for slug in FLOW_CHANGE.findall(result.stdout):
        assert client.get(f"/flow/{slug}/").status_code < 500


EXAMPLES = CORPUS / "goauthentik__authentik"


def import_example(runner, name):
    result = runner.invoke(args=["flows", "import", str(EXAMPLES / name)])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="authentik's examples are not in the corpus")
def test_the_two_stage_enrollment_example_signs_a_new_user_up_and_in(app, runner, flows):
    import_example(runner, "flows-enrollment-2-stage.yaml")
    slug = "default-enrollment-flow"
    flows.open(slug, next_url="/me")
    assert 'name="password_repeat"' in flows.page
    flows.submit(
        slug,
        {"username": "newcomer", "password": PASSWORD, "password_repeat": PASSWORD},
        next_url="/me",
    )
    assert 'name="email"' in flows.page
    response = flows.submit(
        slug, {"name": "New Comer", "email": "new@example.test"}, next_url="/me"
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/me")
    assert "newcomer" in flows.client.get("/me").get_data(as_text=True)


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="authentik's examples are not in the corpus")
def test_the_unenrollment_example_deletes_the_signed_in_account(app, runner, flows):
    import_example(runner, "flows-unenrollment.yaml")
    with app.app_context():
        make_user("leaver")
    flows.sign_in("leaver", PASSWORD)
    assert flows.client.get("/me").status_code == 200
    # Opened from one of this site's pages, the flow's only stage deletes the account.
    response = flows.client.get("/flow/default-unenrollment-flow/")
    assert response.status_code == 303
    assert flows.client.get("/me").status_code == 302
    flows.sign_in("leaver", PASSWORD)
    assert flows.client.get("/me").status_code == 302


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="authentik's examples are not in the corpus")
def test_the_brute_force_example_adds_to_the_sign_in_flow_and_it_still_signs_in(app, runner, flows):
    # The file names the flow without attributes: as in authentik, its bindings are added to
    # the flow's own (the login stage stays), none is unbound.
    result = import_example(runner, "flows-brute-force-lockout.yaml")
    assert "unbound: " not in result.stderr
    with app.app_context():
        make_user("ada")
    flows.sign_in("ada", PASSWORD)
    assert flows.client.get("/me").status_code == 200


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="authentik's examples are not in the corpus")
def test_the_brute_force_example_denies_a_name_after_five_failed_passwords(app, runner, flows):
    import_example(runner, "flows-brute-force-lockout.yaml")
    with app.app_context():
        make_user("ada")
    slug = "default-authentication-flow"
    for _ in range(5):
        flows.client.get(f"/flow/{slug}/restart")
        flows.sign_in("ada", "wrong", slug=slug)
    flows.client.get(f"/flow/{slug}/restart")
    flows.open(slug)
    flows.submit(slug, {"uid_field": "ada"})
    assert "Too many failed sign-in attempts. Please try again later." in flows.text
    assert 'name="password"' not in flows.page
    assert flows.client.get("/me").status_code == 302


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="authentik's examples are not in the corpus")
def test_the_invitation_example_lets_in_only_a_link_and_signs_the_newcomer_up(app, runner, flows):
    import_example(runner, "flows-invitation-enrollment.yaml")
    slug = "invitation-enrollment-flow-external"
    flows.open(slug)
    assert 'name="username"' not in flows.page
    made = runner.invoke(args=["invitations", "create", "--flow", slug, "--name", "guest"])
    assert made.exit_code == 0, made.output
    link = urlsplit(made.output.strip().splitlines()[-1])
    flows.client.get(f"/flow/{slug}/restart")
    flows.page = flows.client.get(f"{link.path}?{link.query}").get_data(as_text=True)
    flows.submit(slug, {"itoken": parse_qs(link.query)["itoken"][0]})
    assert 'name="password_repeat"' in flows.page
    credentials = {"username": "guest", "password": PASSWORD, "password_repeat": PASSWORD}
    flows.submit(slug, credentials)
    assert 'name="email"' in flows.page
    response = flows.submit(slug, {"name": "A Guest", "email": "guest@example.test"})
    assert response.status_code == 303
    assert "guest" in flows.client.get("/me").get_data(as_text=True)
