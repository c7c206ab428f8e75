"""Starting a flow costs the same number of queries whatever its size."""

from tests.factories import make_flow, make_group, make_user


def gated_flow(binding_count: int) -> str:
    make_group(f"group-for-{binding_count}")
    make_user(f"user-for-{binding_count}")
    stages = []
    for index in range(binding_count):
        stages.append(
            {
                "define": {"name": f"deny-{binding_count}-{index}", "type": "deny"},
                "evaluate_on_plan": True,
                "re_evaluate_policies": True,
                "policies": [
                    {"group": f"group-for-{binding_count}"},
                    {"user": f"user-for-{binding_count}"},
                    {"policy": "always-no", "negate": True},
                ],
            }
        )
    stages.append({"stage": "default-authentication-identification", "order": 100000})
    return make_flow(
        stages,
        policies=[{"name": "always-no", "type": "dummy", "options": {"result": False}}],
        flow_policies=[{"policy": "always-no", "negate": True}],
    )


def test_starting_a_flow_with_100_bindings_costs_the_same_queries_as_with_3(app, query_counter):
    with app.app_context():
        slugs = {size: gated_flow(size) for size in (3, 100)}
    # A worker that has shown a page before: the brand (idp/brand/settings.py) is in its cache.
    assert app.test_client().get("/no-such-page").status_code == 404
    counts = {}
    for size, slug in slugs.items():
        counts[size] = [
            query_counter.count(lambda slug=slug: app.test_client().get(f"/flow/{slug}/"))
            for _ in range(2)
        ]
    assert counts[3] == counts[100]
    # The first start loads the flow in three queries after reading the flows revision; the
    # next ones only read the revision. Then the event of the deny stage.
    assert counts[3] == [5, 2]


def test_sign_in_costs_the_same_queries_whatever_the_number_of_groups(app, query_counter):
    from tests.conftest import FlowDriver
    from tests.factories import PASSWORD

    with app.app_context():
        make_user("loner")
        make_user("joiner", groups=[make_group() for _ in range(20)])
    slug = "default-authentication-flow"
    FlowDriver(app.test_client()).open(slug)  # a warm worker: the flow is in its cache
    costs = {}
    for username in ("loner", "joiner"):
        flows = FlowDriver(app.test_client())
        costs[username] = [
            query_counter.count(lambda flows=flows: flows.open(slug)),
            query_counter.count(lambda f=flows, u=username: f.submit(slug, {"uid_field": u})),
            query_counter.count(lambda flows=flows: flows.submit(slug, {"password": PASSWORD})),
        ]
    assert costs["loner"] == costs["joiner"]
    # The whole sign-in, up to the redirect out of the flow (bench/signin.py counts the same):
    # 46 before the pending user was looked up once per request and a flow loaded in three.
    assert sum(costs["loner"]) <= 25


def test_a_wrong_password_costs_the_same_queries_for_an_unknown_name(app, query_counter):
    from tests.conftest import FlowDriver

    with app.app_context():
        make_user("known")
    slug = "default-authentication-flow"
    costs = {}
    for username in ("known", "nobody-by-this-name"):
        flows = FlowDriver(app.test_client())
        flows.open(slug)
        flows.submit(slug, {"uid_field": username})
        costs[username] = query_counter.count(
            lambda flows=flows: flows.submit(slug, {"password": "not the password"})
        )
        assert "Invalid username or password." in flows.text
    assert costs["known"] == costs["nobody-by-this-name"]


def passed_over_flow(skipped: int) -> str:
    make_group(f"nobody-{skipped}")
    stages = [{"stage": "default-authentication-identification"}]
    stages += [
        {
            "define": {"name": f"skipped-{skipped}-{index}", "type": "deny"},
            "re_evaluate_policies": True,
            "policies": [{"group": f"nobody-{skipped}"}],
        }
        for index in range(skipped)
    ]
    stages.append({"stage": "default-authentication-password"})
    return make_flow(stages)


def test_passing_over_stages_costs_the_same_queries_however_many(app, query_counter):
    from tests.conftest import FlowDriver

    with app.app_context():
        make_user("walker")
        slugs = {count: passed_over_flow(count) for count in (1, 20)}
    costs = {}
    for count, slug in slugs.items():
        flows = FlowDriver(app.test_client())
        flows.open(slug)
        costs[count] = query_counter.count(
            lambda flows=flows, slug=slug: flows.submit(slug, {"uid_field": "walker"})
        )
        assert flows.stage == "password"
    assert costs[1] == costs[20]


def signin_statements(app, query_counter, username: str) -> list[int]:
    """SQL statements of each request of a no-JS sign-in on a fresh browser: every flow page
    and its answer (303s not followed), then the landing page and /me."""
    from tests.conftest import csrf_token
    from tests.factories import PASSWORD

    client = app.test_client()
    counts = []

    def counted(method, path, **kwargs):
        answers = []
        counts.append(
            query_counter.count(lambda: answers.append(client.open(path, method=method, **kwargs)))
        )
        return answers[0]

    url = location = "/flow/default-authentication-flow/"
    while location.startswith("/flow/"):
        text = counted("GET", location).get_data(as_text=True)
        form = {"csrf_token": csrf_token(text)}
        if 'name="uid_field"' in text:
            form["uid_field"] = username
        if 'name="password"' in text:
            form["password"] = PASSWORD
        answer = counted("POST", url, data=form)
        assert answer.status_code == 303
        location = answer.headers["Location"]
    while (response := counted("GET", location)).status_code == 302:
        location = response.headers["Location"]
    assert response.status_code == 200 and username in response.get_data(as_text=True)
    return counts


def test_each_request_of_a_sign_in_costs_the_same_whatever_the_users_history(app, query_counter):
    from idp.models import Event, UserSession

    with app.app_context():
        make_user("newcomer")
        make_user("regular", groups=[make_group() for _ in range(20)])
    for _ in range(5):  # earlier sign-ins: sessions, events, reputation and device rows
        signin_statements(app, query_counter, "regular")
    with app.app_context():
        from idp.core.extensions import db

        assert db.session.query(UserSession).count() >= 5
        assert db.session.query(Event).count() >= 10

    newcomer = signin_statements(app, query_counter, "newcomer")
    regular = signin_statements(app, query_counter, "regular")
    assert newcomer == regular
    # Page by page, the one-page sign-in: the flows revision on the sign-in page (the
    # `enrollment` setting is cached under it); at the name and password, the revision, the
    # user, the throttle (4), reputation, authenticators, the two events (the first written
    # out before the next read), the user again under a row lock as the session starts (a
    # password changed meanwhile stops it) and the new session in one INSERT (no savepoint);
    # then the signed-in user with its session in one query on /me (which reads the flows
    # revision too), its sessions, and its authenticators in one query (which self-service
    # flows exist is cached under the revision). The flow ends on /me itself, not through "/".
    assert newcomer == [1, 12, 3]
