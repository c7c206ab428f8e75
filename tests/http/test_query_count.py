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
    counts = {}
    for size, slug in slugs.items():
        client = app.test_client()
        counts[size] = query_counter.count(
            lambda slug=slug, client=client: client.get(f"/flow/{slug}/")
        )
    assert counts[3] == counts[100]
    assert counts[3] <= 4  # the flow in three queries, and the event of the deny stage


def test_sign_in_costs_the_same_queries_whatever_the_number_of_groups(app, query_counter):
    from tests.conftest import FlowDriver
    from tests.factories import PASSWORD

    with app.app_context():
        make_user("loner")
        make_user("joiner", groups=[make_group() for _ in range(20)])
    slug = "default-authentication-flow"
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
