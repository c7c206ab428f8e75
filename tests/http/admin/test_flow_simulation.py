"""The Diagram and Simulate tabs: what they show, that they escape admin input and refuse bad
input, that simulating writes nothing, and that the simulator foretells what the executor then
does for users in and out of groups, a superuser and an anonymous visitor."""

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import (
    Event,
    FailedAttempts,
    Flow,
    FlowToken,
    PolicyBinding,
    ReputationScore,
    User,
    UserSession,
)
from tests.conftest import FlowDriver
from tests.factories import make_flow, make_group, make_user
from tests.http.admin.conftest import signed_in, text
from tests.http.admin.test_access import admin_routes

SLUG = "foretold"
SIGN_IN_SLUG = "foretold-sign-in"
IDENTIFICATION = "default-authentication-identification"
HOSTILE = "<script>alert(1)</script>"


def prompt(name: str) -> dict:
    """A step that asks one optional question whose label names the step."""
    field = {"key": "answer", "label": f"Field of {name}", "required": False}
    return {"name": name, "type": "prompt", "options": {"fields": [field]}}


def step(name: str, policies=(), **settings) -> dict:
    """A bound prompt whose policies are checked when the plan is made, unless told otherwise."""
    timing = {"evaluate_on_plan": True, "re_evaluate_policies": False}
    return {"define": prompt(name), "policies": list(policies), **timing, **settings}


POLICIES = [
    {"name": "is-superuser", "type": "expression", "options": {"expression": "user.is_superuser"}},
    {
        "name": "from-loopback",
        "type": "expression",
        "options": {"expression": "request.ip == '127.0.0.1'"},
    },
    {
        "name": "named-outsider",
        "type": "expression",
        "options": {"expression": "user.username == 'outsider'"},
    },
]
STEPS = [
    step("open"),
    step("staff-only", [{"group": "staff"}]),
    step("not-staff", [{"group": "staff", "negate": True}]),
    step(
        "outsider-or-boss",
        [{"user": "outsider"}, {"policy": "is-superuser", "order": 1}],
        policy_engine_mode="any",
    ),
    step(
        "staff-here",
        [
            {"group": "staff"},
            {"policy": "is-superuser", "enabled": False},
            {"policy": "from-loopback"},
        ],
        policy_engine_mode="all",
    ),
    step(
        "boss-just-before",
        [{"policy": "is-superuser"}],
        evaluate_on_plan=False,
        re_evaluate_policies=True,
    ),
    step(
        "not-outsider-twice",
        [{"policy": "named-outsider", "negate": True}],
        evaluate_on_plan=True,
        re_evaluate_policies=True,
    ),
    step("never-checked", [{"group": "staff"}], evaluate_on_plan=False),
]


@pytest.fixture
def flow(app) -> str:
    """The flow above, gated on the flow itself: everyone but `blocked`."""
    with app.app_context():
        staff = make_group("staff")
        make_user("member", groups=[staff])
        make_user("outsider")
        make_user("boss", superuser=True)
        make_user("blocked")
        return make_flow(
            STEPS,
            slug=SLUG,
            designation="stage_configuration",
            policies=POLICIES,
            flow_policies=[{"user": "blocked", "negate": True}],
            denied_action="message",
        )


def simulate(admin, user: str = "", ip: str = "127.0.0.1", slug: str = SLUG, **more):
    query = {"user": user, "ip": ip, **more}
    return admin.get(f"/admin/flows/{slug}/simulate", query_string=query)


def simulated_stages(page: str) -> list[str]:
    match = re.search(r'<ol class="running">(.*?)</ol>', page, re.S)
    if match is None:
        return []
    return re.findall(r"<li>([^<]+) <span", match.group(1))


def walked_stages(app, username: str | None, slug=SLUG, signed_in_first=True):
    """The stages the executor shows, in order (a prompt by the step its label names), answering
    each; and whether it denied. Not signed in first, the user names themselves when asked."""
    is_signed_in = username and signed_in_first
    driver = FlowDriver(signed_in(app, username) if is_signed_in else app.test_client())
    response = driver.open(slug)
    shown = []
    while stays_in_flow(response, slug) and driver.stage in ("prompt", "identification"):
        if driver.stage == "identification":
            shown.append(IDENTIFICATION)
            response = driver.submit(slug, {"uid_field": username})
            continue
        shown.append(re.search(r"Field of ([a-z-]+)", driver.page).group(1))
        response = driver.submit(slug, {"answer": ""})
    if stays_in_flow(response, slug):
        assert driver.stage == "message"
        return shown, True
    assert response.status_code == 303, response.status_code
    return shown, False


def stays_in_flow(response, slug) -> bool:
    """A page of the flow (a stage, or the message that stops it), or the driver followed a
    redirect to the flow's next page."""
    location = response.headers.get("Location", "")
    return response.status_code in (200, 403) or location.startswith(f"/flow/{slug}/")


@pytest.mark.parametrize("username", ["member", "outsider", "boss", "blocked", None])
def test_the_simulation_foretells_what_the_executor_does(app, admin, flow, username):
    page = text(simulate(admin, username or ""))
    shown, denied = walked_stages(app, username)
    assert simulated_stages(page) == shown
    assert ("<strong>Denied:</strong>" in page) == denied


@pytest.fixture
def sign_in_flow(app, flow) -> str:
    """A sign-in flow: the user is not known when the plan is made, only once identified."""
    with app.app_context():
        return make_flow(
            [
                {"stage": IDENTIFICATION},
                step("staff-on-plan", [{"group": "staff"}]),
                step(
                    "staff-just-before",
                    [{"group": "staff"}],
                    evaluate_on_plan=False,
                    re_evaluate_policies=True,
                ),
                step("open"),
            ],
            slug=SIGN_IN_SLUG,
            designation="authentication",
            flow_policies=[{"user": "blocked", "negate": True}],
            denied_action="message",
        )


@pytest.mark.parametrize("username", ["member", "outsider", "boss"])
def test_the_simulation_foretells_a_user_who_names_themselves_in_the_flow(
    app, admin, sign_in_flow, username
):
    page = text(simulate(admin, username, slug=sign_in_flow))
    shown, denied = walked_stages(app, username, sign_in_flow, signed_in_first=False)
    assert simulated_stages(page) == shown
    assert not denied


def test_a_sign_in_flow_decides_on_plan_for_an_anonymous_visitor(admin, sign_in_flow):
    page = unescape(text(simulate(admin, "member", slug=sign_in_flow)))
    assert '<option selected value="named_in_flow">' in page
    assert "what is checked later sees member" in page
    assert simulated_stages(page) == [IDENTIFICATION, "staff-just-before", "open"]
    signed_in_page = text(simulate(admin, "member", slug=sign_in_flow, arrival="signed_in"))
    assert simulated_stages(signed_in_page) == [
        IDENTIFICATION,
        "staff-on-plan",
        "staff-just-before",
        "open",
    ]


def test_the_gate_asked_again_once_the_user_is_known_is_foretold(app, admin, sign_in_flow):
    page = unescape(text(simulate(admin, "blocked", slug=sign_in_flow)))
    assert "Allowed: the flow starts." in page
    assert "Asked again at every later step, once blocked is known" in page
    assert "<strong>Denied once they are known:</strong>" in page
    shown, denied = walked_stages(app, "blocked", SIGN_IN_SLUG, signed_in_first=False)
    assert (shown, denied) == ([IDENTIFICATION], True)


def test_the_foretold_stages_follow_groups_negation_modes_and_timing(admin, flow):
    expected = {
        "member": ["open", "staff-only", "staff-here", "not-outsider-twice", "never-checked"],
        "outsider": ["open", "not-staff", "outsider-or-boss", "never-checked"],
        "boss": [
            "open",
            "not-staff",
            "outsider-or-boss",
            "boss-just-before",
            "not-outsider-twice",
            "never-checked",
        ],
        "": ["open", "not-staff", "not-outsider-twice", "never-checked"],
    }
    for username, stages in expected.items():
        assert simulated_stages(text(simulate(admin, username))) == stages, username


def test_each_binding_is_marked_with_when_it_is_decided_and_its_verdicts(admin, flow):
    page = unescape(text(simulate(admin, "member")))
    assert page.count("Decided when the plan is made") == 5
    assert page.count("Decided just before the stage") == 2
    assert "may depend on what earlier stages learn" in page
    assert "Failing (the answer was yes, negated)" in page
    assert "Not asked: disabled" in page
    assert "left out of the plan" in page
    assert "Allowed: the flow starts." in page


def test_a_denied_user_sees_the_gate_and_its_consequence(admin, flow):
    page = unescape(text(simulate(admin, "blocked")))
    assert "<strong>Denied:</strong>" in page
    assert "They see the message and the flow stops." in page
    assert "The plan" not in page


def test_a_policy_error_is_shown_as_the_stop_the_executor_makes(app, admin, flows):
    with app.app_context():
        broken = {"name": "broken", "type": "expression", "options": {"expression": "1 / 0"}}
        make_flow(
            [step("first"), step("guarded", [{"policy": "broken"}])],
            slug="broken-flow",
            policies=[broken],
        )
    page = unescape(text(simulate(admin, slug="broken-flow")))
    assert "Error: the flow stops (no failure result is set, so it fails closed)" in page
    assert "rule for this step could not be checked" in page
    assert "stops the flow" in page
    response = flows.open("broken-flow")
    assert response.status_code == 403
    assert "rule for this step could not be checked" in flows.text


def test_a_failure_result_is_shown_as_the_verdict_it_stands_for(app, admin):
    with app.app_context():
        broken = {"name": "broken", "type": "expression", "options": {"expression": "1 / 0"}}
        make_flow(
            [step("guarded", [{"policy": "broken", "failure_result": True}])],
            slug="lenient-flow",
            policies=[broken],
        )
    page = unescape(text(simulate(admin, slug="lenient-flow")))
    assert "Error, counted as passing (the binding's failure result)" in page
    assert simulated_stages(page) == ["guarded"]


def row_counts(app) -> dict:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (
                Event,
                FailedAttempts,
                ReputationScore,
                FlowToken,
                UserSession,
                User,
                PolicyBinding,
                Flow,
            )
        }


def test_simulating_writes_nothing(app, admin, flow, query_counter):
    before = row_counts(app)
    for username in ("member", "boss", ""):
        assert query_counter.count(lambda username=username: simulate(admin, username)) > 0
        writes = [
            statement
            for statement in query_counter.statements
            if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        ]
        # Signing the admin's request in touches their session row; nothing else is written.
        assert all("user_sessions" in statement for statement in writes), writes
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"user": "nobody"}, "There is no user with this username."),
        ({"user": "", "ip": "not-an-address"}, "Enter an IPv4 or IPv6 address."),
        ({"user": "x" * 151}, "Field cannot be longer than 150 characters."),
        ({"user": "", "arrival": "by-air"}, "Not a valid choice."),
    ],
)
def test_bad_simulation_input_is_refused_next_to_the_field(admin, flow, query, message):
    response = admin.get(f"/admin/flows/{SLUG}/simulate", query_string=query)
    assert response.status_code == 400
    assert re.search(
        r'<ul class="errors" id="(user|ip|arrival)-errors">\s*<li>' + re.escape(message),
        text(response),
    )


def test_the_simulate_tab_opens_with_an_empty_form(admin, flow):
    response = admin.get(f"/admin/flows/{SLUG}/simulate")
    assert response.status_code == 200
    page = text(response)
    assert 'method="get"' in page
    assert "csrf_token" not in page
    assert "The plan" not in page


def test_the_diagram_draws_the_gate_and_every_step_with_when_it_is_checked(admin, flow):
    response = admin.get(f"/admin/flows/{SLUG}/diagram")
    assert response.status_code == 200
    page = unescape(text(response))
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'viewBox="0 0 440' in svg and 'width="100%"' in svg
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "style=" not in svg and "<script" not in svg
    # What the picture says, its wrapped lines joined again.
    said = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    assert "Who may use the flow: anyone" in said
    assert "• not user blocked" in said
    assert "When denied: show a message and stop" in said
    for index, binding in enumerate(STEPS):
        name = binding["define"]["name"]
        assert f"{(index + 1) * 10} · {name} (prompt)" in said
    assert "Checked just before this step, with the user known by then" in said
    assert "Checked when the flow starts, and again just before this step" in said
    assert "Always runs" in said
    assert "• policy is-superuser (disabled)" in said
    assert "Bound (every one must pass):" in said
    assert "When an answer is invalid: ask again" in said
    # Marked as gated: the steps whose policies are checked at all ("never-checked" is not).
    assert svg.count('class="box gated"') == 6
    words = page[page.index('<ol class="diagram-words">') :]
    assert "<strong>60 · boss-just-before (prompt)</strong>" in words


def test_hostile_names_are_escaped_on_both_tabs(app, admin):
    with app.app_context():
        make_group(HOSTILE)
        make_flow(
            [{"define": prompt(HOSTILE), "policies": [{"group": HOSTILE}]}],
            slug="hostile",
            name=HOSTILE,
        )
    for tab in ("diagram", "simulate?user=&ip="):
        page = text(admin.get(f"/admin/flows/hostile/{tab}"))
        assert HOSTILE not in page, tab
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, tab


def test_a_long_name_wraps_in_the_picture_and_is_whole_in_the_words(app, admin):
    long_name = "a-very-long-stage-name-" * 6
    with app.app_context():
        make_flow([{"define": prompt(long_name)}], slug="long-names")
    page = text(admin.get("/admin/flows/long-names/diagram"))
    svg, words = page.split("</svg>")
    lines = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert all(len(line) <= 52 for line in lines), lines
    assert long_name in "".join(lines)
    assert f"<strong>10 · {long_name} (prompt)</strong>" in words


def test_the_flow_tabs_link_to_the_diagram_and_the_simulator(admin, flow):
    page = text(admin.get(f"/admin/flows/{SLUG}/"))
    assert f'href="/admin/flows/{SLUG}/diagram"' in page
    assert f'href="/admin/flows/{SLUG}/simulate"' in page


def test_the_admin_route_walk_includes_both_tabs(app):
    routes = admin_routes(app)
    assert ("GET", "/admin/flows/sample/diagram", True) in routes
    assert ("GET", "/admin/flows/sample/simulate", True) in routes


def gated_flow(app, slug: str, size: int) -> str:
    with app.app_context():
        return make_flow(
            [
                step(f"{slug}-{index}", [{"group": "staff"}, {"policy": "is-superuser"}])
                for index in range(size)
            ],
            slug=slug,
        )


def test_both_tabs_cost_the_same_queries_whatever_the_flows_size(app, admin, flow, query_counter):
    small, large = gated_flow(app, "small", 2), gated_flow(app, "large", 8)
    admin.get("/admin/")  # the new flows changed the revision: the brand is read again, once
    for tab in ("diagram", "simulate?user=member&ip="):
        urls = [f"/admin/flows/{slug}/{tab}" for slug in (small, large)]
        counts = [query_counter.count(lambda url=url: admin.get(url)) for url in urls]
        assert counts[0] == counts[1], (tab, counts)
