"""Running a flow on behalf of another feature: an application's authorization.

The caller seeds what the flow's next new plan starts with (the application it runs for, in
plain values) and where it goes afterwards; when such a flow finishes, the authorization
request it ran for is marked done in the database, so the provider can tell a finished flow
from a visitor who merely came back.
"""

from flask import session, url_for
from sqlalchemy import select

from idp.core.extensions import db
from idp.flows.context import APPLICATION
from idp.flows.plan import drop_plan
from idp.models import AuthorizationRequest, User
from idp.models.types import utcnow

SEEDS_KEY = "flow_seeds"
# Set in the application's context by a consent the user declined; kept on the request row.
DECLINED = "declined"


def seed_flow(slug: str, context: dict, next_url: str) -> str:
    """Make the next plan of the flow `slug` start with `context` and end at `next_url` (a
    same-site path); returns the flow's address. A plan of that flow in progress is dropped:
    it was made for another request."""
    seeds = dict(session.get(SEEDS_KEY) or {})
    seeds[slug] = {"context": context, "next": next_url}
    session[SEEDS_KEY] = seeds
    drop_plan(slug)
    return url_for("flow.execute", slug=slug)


def take_seed(slug: str) -> dict | None:
    seeds = dict(session.get(SEEDS_KEY) or {})
    seed = seeds.pop(slug, None)
    if seed is not None:
        session[SEEDS_KEY] = seeds
    if not isinstance(seed, dict) or not isinstance(seed.get("context"), dict):
        return None
    return seed


def lost_its_seed(flow, context: dict) -> bool:
    """An authorization flow runs for the application that seeded it: without it (a plan
    that expired took the seed along) it has nothing to ask about."""
    return flow.designation == "authorization" and not isinstance(context.get(APPLICATION), dict)


def flow_finished(context: dict, user: User | None) -> None:
    """The flow ran to its end: mark the authorization request it ran for (only the signed-in
    user's own, only once)."""
    application = context.get(APPLICATION)
    if user is None or not isinstance(application, dict):
        return
    handle = application.get("request")
    if not isinstance(handle, str):
        return
    row = db.session.scalar(
        select(AuthorizationRequest).where(
            AuthorizationRequest.handle == handle,
            AuthorizationRequest.user_id == user.id,
            AuthorizationRequest.flow_completed_at.is_(None),
        )
    )
    if row is None:
        return
    row.flow_completed_at = utcnow()
    if application.get(DECLINED) is True:
        row.parameters = {**(row.parameters or {}), DECLINED: True}
