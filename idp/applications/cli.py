"""`idp apps …`: create, bind, list and delete applications from the command line."""

import json

import click
from sqlalchemy import select

from idp.applications.access import who_may_use
from idp.applications.loading import load_application, load_applications
from idp.applications.manage import ApplicationError, bind, create_application, delete_application
from idp.core.cli_support import CommandGroup, fail, write_or_echo
from idp.core.extensions import db
from idp.identity.accounts import find_group, find_user
from idp.models import Policy
from idp.providers.registry import PROVIDER_TYPES

apps_group = CommandGroup("apps", help="Create, bind, list and delete applications.")


@apps_group.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="What users see.")
@click.option("--oidc", is_flag=True, help="An OpenID Connect client.")
@click.option("--proxy", is_flag=True, help="An app behind forward auth.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="OIDC: repeatable.")
@click.option("--public", is_flag=True, help="OIDC: a client that cannot keep a secret.")
@click.option(
    "--post-logout-redirect-uri",
    "post_logout_redirect_uris",
    multiple=True,
    help="OIDC: where the app may send users after signing out (repeatable).",
)
@click.option(
    "--backchannel-logout-uri",
    default="",
    help="OIDC: where Gatehouse posts a logout token when a session ends.",
)
@click.option(
    "--external-host", help="Forward auth: the app's address, e.g. https://app.example.org"
)
@click.option("--path-prefix", default="", help="Forward auth: only URLs under this path.")
@click.option("--launch-url", default="", help="Where users open the app (default: none).")
@click.option("--authorization-flow", help="The slug of the authorization flow to use.")
@click.option("--json", "as_json", is_flag=True, help="Print slug, client id, secret, issuer.")
def apps_create(
    slug, name, oidc, proxy, redirect_uris, public, post_logout_redirect_uris,
    backchannel_logout_uri, external_host, path_prefix, launch_url, authorization_flow, as_json,
):  # fmt: skip
    if oidc == proxy:
        # Both would be one provider silently chosen by the order of the flags.
        fail("say which provider: --oidc or --proxy (one of them)")
    kind = "oauth2" if oidc else "proxy"
    oidc_only = redirect_uris or public or post_logout_redirect_uris or backchannel_logout_uri
    if kind == "oauth2":
        if external_host or path_prefix:
            fail("--external-host and --path-prefix belong to --proxy")
        if not redirect_uris:
            fail("an OIDC application needs at least one --redirect-uri")
        options = {
            "client_type": "public" if public else "confidential",
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
            "backchannel_logout_uri": backchannel_logout_uri,
        }
    else:
        if kind not in PROVIDER_TYPES:
            fail("the provider type 'proxy' (forward auth) is not installed")
        if oidc_only:
            fail(
                "--redirect-uri, --public, --post-logout-redirect-uri and "
                "--backchannel-logout-uri belong to --oidc"
            )
        if not external_host:
            fail("a --proxy application needs --external-host")
        options = {"external_host": external_host, "path_prefix": path_prefix}
    try:
        created = create_application(
            slug,
            name,
            kind,
            options,
            launch_url=launch_url or (external_host or ""),
            authorization_flow_slug=authorization_flow,
        )
    except ApplicationError as error:
        fail(str(error))
    db.session.commit()
    facts = created.facts
    if as_json:
        result = {"slug": slug, "client_id": facts.get("client_id"), "issuer": facts.get("issuer")}
        result.update(created.secrets)
        click.echo(json.dumps(result))
        return
    click.echo(f"Created application {slug} ({PROVIDER_TYPES[kind].label})")
    for label, value in {**facts, **created.secrets}.items():
        if value:
            click.echo(f"  {label}: {value}")
    if created.secrets:
        click.echo("The secret is shown only now: keep it.")


@apps_group.command("bind")
@click.argument("slug")
@click.option("--group", help="Members of this group may use the app.")
@click.option("--user", help="This user may use the app.")
@click.option("--policy", help="Users this policy passes may use the app.")
def apps_bind(slug, group, user, policy):
    if sum(value is not None for value in (group, user, policy)) != 1:
        fail("give exactly one of --group, --user or --policy")
    application = load_application(slug)
    if application is None:
        fail(f"no application with the slug {slug!r}")
    subject = {}
    if group is not None:
        subject["group"] = find_group(group) or fail(f"no group named {group!r}")
    elif user is not None:
        subject["user"] = find_user(user, ("username",)) or fail(f"no user named {user!r}")
    else:
        found = db.session.scalar(select(Policy).where(Policy.name == policy))
        subject["policy"] = found or fail(f"no policy named {policy!r}")
    label = bind(application, **subject).subject_label
    db.session.commit()
    click.echo(f"Bound {label} to {slug}")


@apps_group.command("list")
def apps_list():
    for application in load_applications():
        provider = application.provider
        kind = provider.type if provider else "-"
        click.echo(
            f"{application.slug:<24} {kind:<8} {application.name:<24} {who_may_use(application)}"
        )


@apps_group.command("delete")
@click.argument("slug")
def apps_delete(slug):
    application = load_application(slug)
    if application is None:
        fail(f"no application with the slug {slug!r}")
    delete_application(application)
    db.session.commit()
    click.echo(f"Deleted application {slug}")


@apps_group.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True))
def apps_export(slug, output):
    """Write an application (provider, bindings, the policies they name) as a version-1 YAML
    document for `idp flows import`. Its client secret is never written."""
    from idp.transfer.exporter import dump_yaml, export_application

    document = export_application(slug)
    if document is None:
        fail(f"no application with the slug {slug!r}")
    write_or_echo(dump_yaml(document), output)


keys_group = CommandGroup("keys", help="List and rotate the keys that sign OpenID Connect tokens.")


@keys_group.command("list")
def keys_list():
    from idp.models import SigningKey
    from idp.providers.oauth2 import keys

    rows = db.session.scalars(select(SigningKey).order_by(SigningKey.algorithm, SigningKey.id))
    for key in rows:
        state = keys.state_of(key)
        until = (
            f" published until {key.published_until:%Y-%m-%d %H:%M}" if key.published_until else ""
        )
        click.echo(f"{key.kid:<40} {key.algorithm:<6} {state:<8}{until}")


@keys_group.command("rotate")
@click.option(
    "--algorithm", type=click.Choice(["ES256", "RS256", "all"]), default="all", show_default=True
)
def keys_rotate(algorithm):
    """The next key (already published) starts signing; the current one retires and stays
    published until every token it signed has expired; a new next key is published."""
    from idp.providers.oauth2 import keys

    for name in keys.ALGORITHMS if algorithm == "all" else (algorithm,):
        if algorithm == "all" and not keys.has_keys(name):
            click.echo(f"{name}: no keys, as no application signs with it; none made")
            continue
        current, upcoming = keys.rotate(name)
        click.echo(f"{name}: now signing with {current}; next key {upcoming} published")
    db.session.commit()
