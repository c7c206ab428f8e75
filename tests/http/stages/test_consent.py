"""The consent stage: terms shown safely, agreements remembered per user, stage and terms."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from idp.core.extensions import db
from idp.core.options import OptionsError, parse_options
from idp.models import Consent, Event
from idp.models.types import utcnow
from idp.stages.consent.options import ConsentOptions
from tests.factories import PASSWORD, make_flow, make_user, unique

TERMS = "Be kind.\nNo spam.\n\nWe keep <b>logs</b> for 30 days."


def consent_flow(stage_name=None, **options):
    options.setdefault("terms", TERMS)
    return make_flow(
        [
            {
                "define": {
                    "name": stage_name or unique("terms"),
                    "type": "consent",
                    "options": options,
                }
            },
            {
                "define": {
                    "name": unique("after-terms"),
                    "type": "prompt",
                    "options": {"fields": [{"key": "note", "type": "text"}]},
                }
            },
        ],
        designation="stage_configuration",
        authentication="require_authenticated",
    )


def asked(flows) -> bool:
    return flows.stage == "consent"


def consents(app) -> list[Consent]:
    with app.app_context():
        return list(db.session.scalars(select(Consent).order_by(Consent.id)))


@pytest.fixture
def member(app, flows):
    with app.app_context():
        make_user("member")
    flows.sign_in("member", PASSWORD)
    return "member"


def agree(flows, slug):
    flows.open(slug)
    assert asked(flows)
    response = flows.submit(slug, {})
    assert response.status_code == 303 and flows.stage == "prompt"


def test_terms_are_shown_as_escaped_paragraphs(app, flows, member):
    with app.app_context():
        slug = consent_flow(title="House rules")
    flows.open(slug)
    assert "<h2>House rules</h2>" in flows.page
    assert "<p>Be kind.<br>No spam.</p>" in flows.page
    assert "<p>We keep &lt;b&gt;logs&lt;/b&gt; for 30 days.</p>" in flows.page
    assert "I agree" in flows.page


def test_a_permanent_consent_is_asked_once(app, flows, member):
    with app.app_context():
        slug = consent_flow(mode="permanent")
    agree(flows, slug)
    (consent,) = consents(app)
    assert consent.expires_at is None and len(consent.terms_digest) == 64
    flows.open(slug)
    assert flows.stage == "prompt"  # passed over: nothing to ask


def test_changed_terms_are_asked_again(app, flows, member):
    with app.app_context():
        slug = consent_flow(stage_name="house-rules", mode="permanent")
    agree(flows, slug)
    (before,) = consents(app)
    with app.app_context():
        consent_flow(stage_name="house-rules", mode="permanent", terms=TERMS + "\n\nNew rule.")
    flows.client.get(f"/flow/{slug}/restart")
    agree(flows, slug)
    (after,) = consents(app)
    assert after.id == before.id and after.terms_digest != before.terms_digest


def test_an_expiring_consent_is_asked_again_when_it_runs_out(app, flows, member):
    with app.app_context():
        slug = consent_flow(mode="expiring", expires_in="7d")
    agree(flows, slug)
    (consent,) = consents(app)
    assert abs(consent.expires_at - (utcnow() + timedelta(days=7))) < timedelta(minutes=1)
    flows.open(slug)
    assert flows.stage == "prompt"
    with app.app_context():
        db.session.execute(update(Consent).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    flows.client.get(f"/flow/{slug}/restart")
    agree(flows, slug)


def test_always_asks_every_time_and_keeps_the_latest_agreement(app, flows, member):
    with app.app_context():
        slug = consent_flow(mode="always")
    agree(flows, slug)
    first = consents(app)[0].given_at
    flows.client.get(f"/flow/{slug}/restart")
    agree(flows, slug)
    (consent,) = consents(app)
    assert consent.given_at >= first
    with app.app_context():
        assert (
            len(db.session.scalars(select(Event).where(Event.action == "consent_given")).all()) == 2
        )


def test_each_consent_stage_is_its_own_subject(app, flows, member):
    with app.app_context():
        first = consent_flow(stage_name="rules-a", mode="permanent")
        second = consent_flow(stage_name="rules-b", mode="permanent")
    agree(flows, first)
    agree(flows, second)
    assert [consent.subject for consent in consents(app)] == ["rules-a", "rules-b"]


def test_another_users_consent_does_not_count(app, flows, member):
    with app.app_context():
        slug = consent_flow(mode="permanent")
        make_user("other")
    agree(flows, slug)
    flows.sign_out()
    flows.sign_in("other", PASSWORD)
    flows.open(slug)
    assert asked(flows)


def test_an_anonymous_visitor_may_agree_but_nothing_is_stored(app, flows):
    with app.app_context():
        slug = make_flow(
            [{"define": {"name": "anon-terms", "type": "consent", "options": {"terms": TERMS}}}],
            designation="enrollment",
        )
    flows.open(slug)
    assert asked(flows)
    assert flows.submit(slug, {}).status_code == 303
    assert consents(app) == []


def test_a_name_typed_at_identification_cannot_agree_for_that_user(app, flows):
    with app.app_context():
        make_user("target")
        slug = make_flow(
            [
                {"stage": "default-authentication-identification"},
                {
                    "define": {
                        "name": "id-terms",
                        "type": "consent",
                        "options": {"terms": TERMS, "mode": "permanent"},
                    }
                },
            ]
        )
    flows.open(slug)
    flows.submit(slug, {"uid_field": "target"})
    assert asked(flows)
    flows.submit(slug, {})
    assert consents(app) == []


def test_a_missing_csrf_token_is_refused(app, flows, member):
    with app.app_context():
        slug = consent_flow(mode="permanent")
    flows.open(slug)
    assert flows.submit(slug, {}, csrf=False).status_code == 400
    assert consents(app) == []


@pytest.mark.parametrize(
    ("options", "place"),
    [
        ({"mode": "expiring", "expires_in": "soon"}, "expires_in"),
        ({"mode": "expiring", "expires_in": "0d"}, "expires_in"),
        ({"title": ""}, "title"),
        ({"terms": "x" * 100_001}, "terms"),
        ({"mode": "sometimes"}, "mode"),
    ],
)
def test_bad_options_name_their_field(options, place):
    with pytest.raises(OptionsError) as raised:
        parse_options(ConsentOptions, options)
    assert place in str(raised.value)
