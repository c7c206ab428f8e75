from datetime import datetime

from sqlalchemy import DDL, JSON, CheckConstraint, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow

DESIGNATIONS = (
    "authentication",
    "invalidation",
    "enrollment",
    "unenrollment",
    "recovery",
    "stage_configuration",
    "authorization",
)
AUTHENTICATION_REQUIREMENTS = (
    "none",
    "require_authenticated",
    "require_unauthenticated",
    "require_superuser",
)
DENIED_ACTIONS = ("message_continue", "message", "continue")
ENGINE_MODES = ("any", "all")
INVALID_RESPONSE_ACTIONS = ("retry", "restart", "restart_with_context")

# A flow's own settings, in the order the flow file and the admin show them, and the defaults
# of those a flow may leave out. The flow file's reader and writer, the importer, the authentik
# reader and the admin read them here; the columns below take their defaults from here too.
FLOW_FIELDS = (
    "slug",
    "name",
    "title",
    "designation",
    "authentication",
    "denied_action",
    "policy_engine_mode",
)
FLOW_DEFAULTS = {
    "title": "",
    "authentication": "none",
    "denied_action": "message_continue",
    "policy_engine_mode": "any",
}
# How a stage is bound to a flow (besides the stage itself and its policy bindings).
STAGE_BINDING_FIELDS = (
    "order",
    "evaluate_on_plan",
    "re_evaluate_policies",
    "policy_engine_mode",
    "invalid_response_action",
)
STAGE_BINDING_DEFAULTS = {
    "evaluate_on_plan": False,
    "re_evaluate_policies": True,
    "policy_engine_mode": "any",
    "invalid_response_action": "retry",
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Flow(db.Model):
    __tablename__ = "flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default=FLOW_DEFAULTS["title"])
    designation: Mapped[str] = mapped_column(String(32))
    authentication: Mapped[str] = mapped_column(String(32), default=FLOW_DEFAULTS["authentication"])
    denied_action: Mapped[str] = mapped_column(String(32), default=FLOW_DEFAULTS["denied_action"])
    policy_engine_mode: Mapped[str] = mapped_column(
        String(3), default=FLOW_DEFAULTS["policy_engine_mode"]
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    bindings: Mapped[list["StageBinding"]] = relationship(
        back_populates="flow",
        order_by="(StageBinding.order, StageBinding.id)",
        cascade="all, delete-orphan",
        lazy="raise",
    )
    policy_bindings: Mapped[list["PolicyBinding"]] = relationship(  # noqa: F821
        back_populates="flow",
        order_by="(PolicyBinding.order, PolicyBinding.id)",
        cascade="all, delete-orphan",
        lazy="raise",
    )

    __table_args__ = (
        CheckConstraint(_one_of("designation", DESIGNATIONS), name="designation"),
        CheckConstraint(
            _one_of("authentication", AUTHENTICATION_REQUIREMENTS), name="authentication"
        ),
        CheckConstraint(_one_of("denied_action", DENIED_ACTIONS), name="denied_action"),
        CheckConstraint(_one_of("policy_engine_mode", ENGINE_MODES), name="policy_engine_mode"),
    )

    def __repr__(self) -> str:
        return f"<Flow {self.slug}>"


class Stage(db.Model):
    """One step. `type` is a key of the stage registry; `options` is validated by that type."""

    __tablename__ = "stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<Stage {self.name} ({self.type})>"


class StageBinding(db.Model):
    __tablename__ = "stage_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="RESTRICT"), index=True)
    order: Mapped[int] = mapped_column(default=0)
    evaluate_on_plan: Mapped[bool] = mapped_column(
        default=STAGE_BINDING_DEFAULTS["evaluate_on_plan"]
    )
    re_evaluate_policies: Mapped[bool] = mapped_column(
        default=STAGE_BINDING_DEFAULTS["re_evaluate_policies"]
    )
    policy_engine_mode: Mapped[str] = mapped_column(
        String(3), default=STAGE_BINDING_DEFAULTS["policy_engine_mode"]
    )
    invalid_response_action: Mapped[str] = mapped_column(
        String(32), default=STAGE_BINDING_DEFAULTS["invalid_response_action"]
    )

    flow: Mapped[Flow] = relationship(back_populates="bindings", lazy="raise")
    stage: Mapped[Stage] = relationship(lazy="raise")
    policy_bindings: Mapped[list["PolicyBinding"]] = relationship(  # noqa: F821
        back_populates="stage_binding",
        order_by="(PolicyBinding.order, PolicyBinding.id)",
        cascade="all, delete-orphan",
        lazy="raise",
    )

    __table_args__ = (
        CheckConstraint(_one_of("policy_engine_mode", ENGINE_MODES), name="policy_engine_mode"),
        CheckConstraint(
            _one_of("invalid_response_action", INVALID_RESPONSE_ACTIONS),
            name="invalid_response_action",
        ),
    )


class FlowsRevision(db.Model):
    """One row whose value changes, in the same transaction, with every write to a flow, a
    stage, a policy, a binding, or to a group or user a binding names (idp/flows/revision.py).
    A worker's cached flows are good while it stays the same; any process sees a change as
    soon as it is committed. A random value rather than a count: a database restored from a
    backup, or emptied, never brings back a value a worker has cached flows under."""

    __tablename__ = "flows_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[str] = mapped_column(String(32))


# create_all (tests, the bench) makes the row the migration inserts.
event.listen(
    FlowsRevision.__table__,
    "after_create",
    DDL("INSERT INTO flows_revision (id, revision) VALUES (1, 'initial')"),
)
