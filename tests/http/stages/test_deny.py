from tests.factories import make_flow


def test_deny_stage_shows_its_message_and_ends_the_flow(app, flows):
    with app.app_context():
        slug = make_flow(
            [
                {
                    "define": {
                        "name": "no-entry",
                        "type": "deny",
                        "options": {"message": "Closed today."},
                    }
                }
            ]
        )
    response = flows.open(slug)
    assert response.status_code == 403
    assert "Closed today." in flows.text
    assert flows.stage == "message"


def test_deny_stage_answers_htmx_with_a_fragment(app, flows):
    with app.app_context():
        slug = make_flow(
            [
                {"stage": "default-authentication-identification"},
                {"define": {"name": "deny-after-id", "type": "deny"}},
            ]
        )
    flows.open(slug)
    response = flows.submit(slug, {"uid_field": "someone"}, htmx=True)
    assert response.status_code == 200
    assert "You may not continue." in flows.text
    assert "<html" not in flows.page
