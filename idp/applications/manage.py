"""Creating, binding and deleting applications: shared by the admin and the `idp` command.
Helpers only flush; the caller commits."""

from dataclasses import dataclass

from sqlalchemy import select

from idp.applications.addresses import WEB_ADDRESS_RULE, base_url, is_web_address
from idp.applications.loading import applications_of_type
from idp.core.database import hold_until_commit
from idp.core.extensions import db
from idp.core.i18n import N_, Sentence
from idp.core.options import OptionsError, options_to_mapping
from idp.core.slugs import SLUG_PATTERN
from idp.identity.deletion import delete_where
from idp.models import Application, Flow, PolicyBinding, Provider
from idp.providers.registry import PROVIDER_TYPES

# What a new provider uses unless told otherwise, most preferred first.
DEFAULT_AUTHORIZATION_FLOWS = (
    "default-provider-authorization-explicit-consent",
    "default-provider-authorization-implicit-consent",
)


class ApplicationError(ValueError):
    """Bad input for an application; the message names what is wrong."""


@dataclass(frozen=True)
class Created:
    application: Application
    # Shown once (a client secret), never stored in clear.
    secrets: dict
    facts: dict


def check_slug(slug: str) -> None:
    if not SLUG_PATTERN.match(slug or ""):
        raise ApplicationError(
            "a slug is 1 to 100 lowercase letters, digits, - or _, starting with a letter or digit"
        )


def slug_is_taken(slug: str, other_than: int | None = None) -> bool:
    found = db.session.scalar(select(Application.id).where(Application.slug == slug))
    return found is not None and found != other_than


def authorization_flow(slug: str | None) -> Flow:
    if slug:
        flow = db.session.scalar(select(Flow).where(Flow.slug == slug))
        if flow is None or flow.designation != "authorization":
            raise ApplicationError(f"no authorization flow named {slug!r}")
        return flow
    flows = {
        flow.slug: flow
        for flow in db.session.scalars(select(Flow).where(Flow.designation == "authorization"))
    }
    for preferred in DEFAULT_AUTHORIZATION_FLOWS:
        if preferred in flows:
            return flows[preferred]
    if flows:
        return flows[sorted(flows)[0]]
    raise ApplicationError(
        "there is no flow of designation authorization (import the shipped "
        "default-provider-authorization-* flows)"
    )


ADDRESSES_LOCK_KEY = 7_154_620_016  # names the advisory lock of address_taken on PostgreSQL
ADDRESS_TAKEN = N_("%(address)s is already the address of application %(holder)s")


def address_taken(provider_type, options, slug: str) -> Sentence | None:
    """Why these options may not be saved for application `slug`: another application claims
    the same address (ProviderType.claimed_address), and a request to it could not tell the
    two apart. None when no other does. No constraint keeps an address to one application:
    the lock makes a parallel check wait until the caller has committed what it checked."""
    address = provider_type.claimed_address(options)
    if address is None:
        return None
    hold_until_commit(db.session, ADDRESSES_LOCK_KEY)
    for other in applications_of_type(db.session, provider_type.name):
        if other.slug == slug:
            continue
        try:
            other_options = provider_type.parse_options(other.provider.options)
        except OptionsError:
            continue  # an unreadable provider claims nothing: it matches no request
        if provider_type.claimed_address(other_options) == address:
            return Sentence(ADDRESS_TAKEN, address=address, holder=repr(other.slug))
    return None


def create_application(
    slug: str,
    name: str,
    provider_type_name: str,
    options: dict,
    *,
    launch_url: str = "",
    description: str = "",
    authorization_flow_slug: str | None = None,
) -> Created:
    check_slug(slug)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ApplicationError("a name is 1 to 200 characters")
    if slug_is_taken(slug):
        raise ApplicationError(f"an application with the slug {slug!r} exists already")
    provider_type = PROVIDER_TYPES.get(provider_type_name)
    if provider_type is None:
        raise ApplicationError(f"the provider type {provider_type_name!r} is not installed")
    try:
        parsed = provider_type.parse_options(options)
    except OptionsError as error:
        raise ApplicationError(f"bad provider options: {error}") from None
    taken = address_taken(provider_type, parsed, slug)
    if taken is not None:
        raise ApplicationError(taken)
    # After the options: the command line makes a proxy's external host its launch URL too.
    if launch_url and not is_web_address(launch_url):
        raise ApplicationError(f"the launch URL {WEB_ADDRESS_RULE}")
    flow = authorization_flow(authorization_flow_slug)
    application = Application(
        slug=slug, name=name, launch_url=launch_url, description=description, policy_bindings=[]
    )
    provider = Provider(
        type=provider_type.name,
        options=options_to_mapping(parsed),
        authorization_flow_id=flow.id,
    )
    application.provider = provider
    db.session.add(application)
    secrets = provider_type.provision(provider, parsed)
    provider_type.ready_to_serve(parsed)
    db.session.flush()
    facts = provider_type.facts(application, provider, parsed, base_url())
    return Created(application, secrets, facts)


def bind(application: Application, *, policy=None, group=None, user=None) -> PolicyBinding:
    """One subject bound to the application, after the ones it has."""
    if sum(subject is not None for subject in (policy, group, user)) != 1:
        raise ApplicationError("bind exactly one of a policy, a group or a user")
    order = max((binding.order for binding in application.policy_bindings), default=0) + 10
    binding = PolicyBinding(
        application_id=application.id,
        policy=policy,
        policy_id=policy.id if policy else None,
        group=group,
        group_id=group.id if group else None,
        user=user,
        user_id=user.id if user else None,
        order=order,
    )
    application.policy_bindings.append(binding)
    db.session.flush()
    return binding


def delete_application(application: Application) -> int:
    """Delete the application with its provider, bindings, consents, codes and tokens (how
    many applications that was: none if another request deleted it first). SQLite does not
    enforce the ON DELETE rules and gives the id to the next application made: it must not
    inherit the users' consents and tokens."""
    db.session.flush()
    return delete_where(Application.__table__, Application.id == application.id)
