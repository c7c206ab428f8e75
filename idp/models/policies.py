from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.core.extensions import db
from idp.models.applications import Application
from idp.models.flows import Flow, StageBinding
from idp.models.users import Group, User


def _exactly_one(*columns: str) -> str:
    # CASE rather than adding booleans, which PostgreSQL refuses.
    terms = " + ".join(f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)" for column in columns)
    return f"{terms} = 1"


class Policy(db.Model):
    """A yes/no gate. `type` is a key of the policy registry; `options` is validated by it."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<Policy {self.name} ({self.type})>"


class PolicyBinding(db.Model):
    """Binds one policy, group or user to a flow (who may use it), a stage binding (whether
    that step runs) or an application (who may use it)."""

    __tablename__ = "policy_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int | None] = mapped_column(
        ForeignKey("flows.id", ondelete="CASCADE"), index=True
    )
    stage_binding_id: Mapped[int | None] = mapped_column(
        ForeignKey("stage_bindings.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    order: Mapped[int] = mapped_column(default=0)
    negate: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    # The binding's verdict when its policy raises; None means the error stops the flow.
    failure_result: Mapped[bool | None] = mapped_column(default=None)
    timeout: Mapped[int] = mapped_column(default=30)

    flow: Mapped[Flow | None] = relationship(back_populates="policy_bindings", lazy="raise")
    stage_binding: Mapped[StageBinding | None] = relationship(
        back_populates="policy_bindings", lazy="raise"
    )
    application: Mapped[Application | None] = relationship(
        back_populates="policy_bindings", lazy="raise"
    )
    policy: Mapped[Policy | None] = relationship(lazy="raise")
    group: Mapped[Group | None] = relationship(lazy="raise")
    user: Mapped[User | None] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint(
            _exactly_one("flow_id", "stage_binding_id", "application_id"), name="one_target"
        ),
        CheckConstraint(_exactly_one("policy_id", "group_id", "user_id"), name="one_subject"),
        CheckConstraint("timeout > 0 AND timeout <= 300", name="timeout_range"),
    )

    @property
    def subject(self) -> tuple[str, str]:
        """What the binding asks about: ("policy", "group" or "user", its name)."""
        if self.policy_id is not None:
            return "policy", self.policy.name
        if self.group_id is not None:
            return "group", self.group.name
        return "user", self.user.username

    @property
    def subject_label(self) -> str:
        return " ".join(self.subject)
