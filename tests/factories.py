"""Test data with unique names. Flows are built through the same importer as YAML files."""

import itertools
from pathlib import Path

from idp.core.extensions import db
from idp.identity.accounts import set_password
from idp.models import Group, User
from idp.transfer.document import load_file, read_document
from idp.transfer.importer import import_documents

SHIPPED_FLOWS = Path(__file__).resolve().parent.parent / "flows"
PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}"


def load_shipped_flows() -> None:
    paths = sorted(str(path) for path in SHIPPED_FLOWS.glob("*.yaml"))
    import_documents([(read_document(load_file(path), path), path) for path in paths])
    db.session.commit()


def make_group(name=None) -> Group:
    group = Group(name=name or unique("group"))
    db.session.add(group)
    db.session.commit()
    return group


def make_user(
    username=None, password=PASSWORD, email=None, superuser=False, groups=(), active=True
) -> User:
    username = username or unique("user")
    user = User(
        username=username,
        email=email or f"{username}@example.test",
        is_superuser=superuser,
        is_active=active,
        attributes={},
        groups=list(groups),
    )
    if password is not None:
        set_password(user, password)
    db.session.add(user)
    db.session.commit()
    return user


def import_flow(document: dict) -> None:
    import_documents([(read_document(document), "test")])
    db.session.commit()


def make_flow(
    stages,
    slug=None,
    designation="authentication",
    policies=(),
    flow_policies=(),
    **flow_fields,
) -> str:
    """A flow from stage bindings given as dicts ({stage: name, ...}) with the stages
    defined inline ({name, type, options}) under the binding's `define` key."""
    slug = slug or unique("flow-")
    bindings, definitions = [], []
    for index, binding in enumerate(stages):
        binding = dict(binding)
        definition = binding.pop("define", None)
        if definition is not None:
            definitions.append(definition)
            binding["stage"] = definition["name"]
        binding.setdefault("order", (index + 1) * 10)
        bindings.append(binding)
    import_flow(
        {
            "version": 1,
            "flow": {
                "slug": slug,
                "name": slug,
                "designation": designation,
                "policies": list(flow_policies),
                "stages": bindings,
                **flow_fields,
            },
            "stages": definitions,
            "policies": list(policies),
        }
    )
    return slug


def account_of(name: str) -> str:
    """The failed-attempt counter key for a name, as the password stage computes it."""
    from idp.protection.attempts import account_key

    return account_key(name)


def protect_wiki_for(runner, username: str) -> None:
    """A forward-auth application that only `username` may use, made through the CLI."""
    create = ["apps", "create", "wiki", "--name", "Wiki", "--proxy"]
    for args in (
        [*create, "--external-host", "https://wiki.example.test"],
        ["apps", "bind", "wiki", "--user", username],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
