"""the brand: product name, logo, favicon, accent colour, footer links, mail sender and subjects

Revision ID: a7c3e9b1d2f4
Revises: a7c3e9d2b4f1
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9b1d2f4'
down_revision = 'a7c3e9d2b4f1'
branch_labels = None
depends_on = None


def upgrade():
    # No row: every value has its default (idp.brand.settings); the admin's Brand page writes it.
    op.create_table(
        'brand',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('product_name', sa.String(length=60), nullable=False),
        sa.Column('accent_color', sa.String(length=7), nullable=False),
        sa.Column('footer_links', sa.JSON(), nullable=False),
        sa.Column('mail_sender_name', sa.String(length=60), nullable=False),
        sa.Column('sign_in_link_subject', sa.String(length=150), nullable=False),
        sa.Column('authenticator_added_subject', sa.String(length=150), nullable=False),
        sa.Column('account_exists_subject', sa.String(length=150), nullable=False),
        sa.Column('logo', sa.String(length=80), nullable=False),
        sa.Column('favicon', sa.String(length=80), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_brand')),
    )
    op.create_table(
        'brand_files',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_brand_files')),
    )


def downgrade():
    op.drop_table('brand_files')
    op.drop_table('brand')
