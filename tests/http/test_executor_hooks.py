"""The executor's generic hooks, exercised with small stage types made for the test."""

from dataclasses import dataclass

import pytest
from flask_wtf import FlaskForm

from idp.flows.outcomes import Advance, Stay
from idp.flows.plan import plan_to_dict, resume_plan
from idp.stages import registry
from idp.stages.base import StageType
from tests.factories import make_flow


class CounterForm(FlaskForm):
    pass


@dataclass
class Calls:
    reached: int = 0


class ReachStage(StageType):
    """Counts arrivals in the context once; its button says "again" (Stay) or "done"."""

    name = "test_reach"
    label = "Test reach"
    description = "test"
    form_class = CounterForm
    template = "flow/confirm.html"

    def __init__(self):
        self.calls = Calls()

    def is_satisfied(self, ctx):
        return bool(ctx.current_user and ctx.current_user.username == "already-done")

    def on_reach(self, ctx):
        if ctx.data.get("reached"):
            return None
        self.calls.reached += 1
        return {"reached": True}

    def render(self, ctx):
        return {"label": "Go"}

    def submit(self, ctx, form):
        if not ctx.data.get("stayed"):
            return Stay("Sent again.", {"stayed": True})
        return Advance()


@pytest.fixture
def reach_stage(monkeypatch):
    stage = ReachStage()
    monkeypatch.setitem(registry.STAGE_TYPES, stage.name, stage)
    return stage


def test_on_reach_runs_once_when_the_stage_is_reached(app, flows, reach_stage):
    with app.app_context():
        slug = make_flow([{"define": {"name": "reach", "type": "test_reach"}}])
    flows.open(slug)
    flows.open(slug)
    assert reach_stage.calls.reached == 1


def test_on_reach_waits_for_a_click_when_another_site_sent_the_visitor(app, flows, reach_stage):
    with app.app_context():
        slug = make_flow([{"define": {"name": "reach2", "type": "test_reach"}}])
    flows.open(slug, headers={"Sec-Fetch-Site": "cross-site"})
    assert reach_stage.calls.reached == 0


@pytest.mark.parametrize("htmx", [False, True])
def test_stay_shows_the_stage_again_with_a_notice(app, flows, reach_stage, htmx):
    with app.app_context():
        slug = make_flow([{"define": {"name": f"stay-{htmx}", "type": "test_reach"}}])
    flows.open(slug)
    response = flows.submit(slug, {}, htmx=htmx)
    assert response.status_code in (200, 303)
    assert "Sent again." in flows.page
    response = flows.submit(slug, {}, htmx=htmx)
    assert response.headers.get("HX-Redirect" if htmx else "Location") == "/"


def test_a_resumed_plan_continues_after_the_stage_that_was_waiting(app, flows, reach_stage):
    from flask import session

    from idp.flows.plan import PLANS_KEY, FlowPlan
    from tests.http.test_executor import session_of

    with app.app_context():
        slug = make_flow(
            [
                {"define": {"name": "wait-here", "type": "test_reach"}},
                {
                    "define": {
                        "name": "then-deny",
                        "type": "deny",
                        "options": {"message": "Reached the next stage."},
                    }
                },
            ]
        )
    flows.open(slug)
    kept = session_of(app, flows.client)[PLANS_KEY][slug]
    assert plan_to_dict(FlowPlan(**kept)) == kept
    # Another browser resumes the kept plan (as an emailed link does).
    with app.test_request_context():
        assert resume_plan({"nonsense": 1}, {}, 600) is None
        assert resume_plan(kept, {"confirmed": True}, 600).position == 1
        resumed_session = dict(session)
    other = app.test_client()
    with other.session_transaction() as other_session:
        other_session.update(resumed_session)
    page = other.get(f"/flow/{slug}/").get_data(as_text=True)
    assert "Reached the next stage." in page


def test_a_satisfied_stage_is_passed_over(app, flows, reach_stage):
    from tests.factories import PASSWORD, make_user

    with app.app_context():
        make_user("already-done")
        slug = make_flow([{"define": {"name": "satisfied", "type": "test_reach"}}])
    flows.open(slug)
    assert ">Go</button>" in flows.page
    flows.sign_in("already-done", PASSWORD)
    response = flows.open(slug)
    assert response.status_code == 303
    assert reach_stage.calls.reached == 1
