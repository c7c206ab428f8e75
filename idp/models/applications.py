"""Applications Gatehouse signs people into, and the provider (protocol) each one speaks."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.core.extensions import db
from idp.models.flows import ENGINE_MODES, Flow
from idp.models.types import UTCDateTime, utcnow


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Application(db.Model):
    """Software behind Gatehouse's sign-in. Policy, group and user bindings on it decide who
    may use it (no bindings: every signed-in, active user)."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    launch_url: Mapped[str] = mapped_column(String(2000), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    icon: Mapped[str] = mapped_column(String(2000), default="")
    policy_engine_mode: Mapped[str] = mapped_column(String(3), default="any")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    provider: Mapped["Provider | None"] = relationship(
        back_populates="application", cascade="all, delete-orphan", lazy="raise", uselist=False
    )
    policy_bindings: Mapped[list["PolicyBinding"]] = relationship(  # noqa: F821
        back_populates="application",
        order_by="(PolicyBinding.order, PolicyBinding.id)",
        cascade="all, delete-orphan",
        lazy="raise",
    )

    __table_args__ = (
        CheckConstraint(_one_of("policy_engine_mode", ENGINE_MODES), name="policy_engine_mode"),
    )

    def __repr__(self) -> str:
        return f"<Application {self.slug}>"


@event.listens_for(Application.__table__, "before_create")
def _ids_never_reused_on_sqlite(table, connection, **_):
    """SQLite would otherwise give a deleted application's id to the next one made, and an
    authorization flow's plan (which names its application by id) left open on the deleted
    one would, once agreed to, remember the consent for that next application. Said here
    rather than in __table_args__, which would load SQLite's dialect on every site."""
    if connection.dialect.name == "sqlite":
        table.dialect_options["sqlite"]["autoincrement"] = True


class Provider(db.Model):
    """How an application talks to Gatehouse. `type` is a key of the provider registry;
    `options` is validated by that type's parse."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    type: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    # The name a protocol knows the provider by (an OAuth client_id), when it has one.
    client_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    # Only a hash of a client secret is kept; the secret is shown once.
    client_secret_hash: Mapped[str | None] = mapped_column(String(200))
    authorization_flow_id: Mapped[int] = mapped_column(
        ForeignKey("flows.id", ondelete="RESTRICT"), index=True
    )
    authentication_flow_id: Mapped[int | None] = mapped_column(
        ForeignKey("flows.id", ondelete="SET NULL"), index=True
    )
    invalidation_flow_id: Mapped[int | None] = mapped_column(
        ForeignKey("flows.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="provider", lazy="raise")
    authorization_flow: Mapped[Flow] = relationship(
        foreign_keys=[authorization_flow_id], lazy="raise"
    )
    authentication_flow: Mapped[Flow | None] = relationship(
        foreign_keys=[authentication_flow_id], lazy="raise"
    )
    invalidation_flow: Mapped[Flow | None] = relationship(
        foreign_keys=[invalidation_flow_id], lazy="raise"
    )

    def __repr__(self) -> str:
        return f"<Provider {self.type} of application {self.application_id}>"


class AuthorizationRequest(db.Model):
    """A user's request to sign in to an application, kept while the provider's
    authorization flow (consent) runs. The flow's plan carries only `handle`, which is worth
    nothing to anyone but this user; when the flow finishes the executor marks the row, and
    the provider uses it once."""

    __tablename__ = "authorization_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The validated request, as the provider type needs it back (redirect URI, scopes...).
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    flow_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
