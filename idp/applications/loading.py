"""Loading an application with what deciding access needs, in a fixed number of queries."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from idp.core.extensions import db
from idp.models import Application, PolicyBinding, Provider


def _with_everything():
    return (
        joinedload(Application.provider),
        selectinload(Application.policy_bindings).options(
            joinedload(PolicyBinding.policy),
            joinedload(PolicyBinding.group),
            joinedload(PolicyBinding.user),
        ),
    )


def load_application(slug: str) -> Application | None:
    """Two queries whatever the number of bindings: the application with its provider, and
    its policy bindings with their subjects."""
    return db.session.scalar(
        select(Application).where(Application.slug == slug).options(*_with_everything())
    )


def load_application_by_id(application_id: int) -> Application | None:
    return db.session.scalar(
        select(Application).where(Application.id == application_id).options(*_with_everything())
    )


def load_application_by_client_id(client_id: str) -> Application | None:
    if not client_id or len(client_id) > 100:
        return None
    return db.session.scalar(
        select(Application)
        .join(Application.provider)
        .where(Provider.client_id == client_id)
        .options(*_with_everything())
    )


def load_applications() -> list[Application]:
    """Every application with its provider and bindings (the admin list, /me): two queries
    whatever their number."""
    return list(
        db.session.scalars(
            select(Application).options(*_with_everything()).order_by(Application.name)
        )
    )
