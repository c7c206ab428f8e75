"""indexes for a site with many rows: a user's groups, and the event log by user

Every sign-in, forward-auth request and /me/applications reads the user's groups by
group_members.user_id, which the primary key (group_id, user_id) cannot serve: PostgreSQL
probed it once per group of the site. The event log's User filter compares lower(username),
which no index served: 0.4 s over a million events.

Revision ID: 9a4c6e8b2d13
Revises: d7a3c5e9f2b4
Create Date: 2026-12-06 15:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9a4c6e8b2d13"
down_revision = "d7a3c5e9f2b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_group_members_user_id", "group_members", ["user_id"])
    op.create_index("ix_events_username_lower", "events", [sa.text("lower(username)")])


def downgrade():
    op.drop_index("ix_events_username_lower", table_name="events")
    op.drop_index("ix_group_members_user_id", table_name="group_members")
