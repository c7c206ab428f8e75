"""What reading a blueprint asks of Gatehouse's database: read-only questions."""

from sqlalchemy import func, select

from idp.core.extensions import db


class DatabaseLookup:
    """Read-only questions about objects Gatehouse has already."""

    def find(self, kind: str, conditions: dict, type_name: str | None = None) -> str | None:
        """The name (slug for flows, username for users) of a matching object, or None."""
        from idp.models import Flow, Group, Policy, Stage, User

        if not all(isinstance(value, str) for value in conditions.values()):
            return None
        if kind == "user":
            wanted = conditions["username"].lower()
            statement = select(User.username).where(func.lower(User.username) == wanted)
            return db.session.scalar(statement.limit(1))
        model, key = {
            "flow": (Flow, Flow.slug),
            "stage": (Stage, Stage.name),
            "policy": (Policy, Policy.name),
            "group": (Group, Group.name),
        }[kind]
        statement = select(key)
        for name, value in conditions.items():
            statement = statement.where(getattr(model, name) == value)
        if type_name is not None:
            statement = statement.where(model.type == type_name)
        return db.session.scalar(statement.limit(1))

    def stage(self, name: str) -> tuple[str, dict] | None:
        from idp.models import Stage

        return self._component(Stage, name)

    def policy(self, name: str) -> tuple[str, dict] | None:
        from idp.models import Policy

        return self._component(Policy, name)

    def flow(self, slug: str) -> dict | None:
        """The flow as a version-1 document, the base a blueprint's entries change."""
        from idp.transfer.exporter import export_flow

        return export_flow(slug)

    def application(self, slug: str) -> dict | None:
        """The application as a version-1 `applications:` item, the base an entry changes."""
        from idp.transfer.exporter import export_application

        document = export_application(slug)
        return document["applications"][0] if document else None

    @staticmethod
    def _component(model, name):
        row = db.session.execute(
            select(model.type, model.options).where(model.name == name)
        ).first()
        return (row.type, dict(row.options or {})) if row else None
