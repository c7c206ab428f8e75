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


def applications_of_type(session, provider_type: str) -> list[Application]:
    """Every application whose provider is of this type, with its provider and its policy
    bindings with their subjects: two queries whatever their number."""
    return list(
        session.scalars(
            select(Application)
            .join(Application.provider)
            .where(Provider.type == provider_type)
            .options(*_with_everything())
        ).unique()
    )


def load_applications() -> list[Application]:
    """Every application with its provider and bindings (the admin list, /me): two queries
    whatever their number."""
    return list(
        db.session.scalars(
            select(Application).options(*_with_everything()).order_by(Application.name)
        )
    )
