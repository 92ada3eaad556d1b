"""contract annual late-fee rate, day count and compounding; promise grace in settings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "contract",
        sa.Column(
            "late_fee_rate_per_year",
            sa.Numeric(precision=10, scale=6),
            nullable=False,
            server_default="0",
        ),
    )
    op.add_column(
        "contract",
        sa.Column(
            "late_fee_day_count", sa.String(length=12), nullable=False, server_default="actual/365"
        ),
    )
    op.add_column(
        "contract",
        sa.Column("late_fee_compound", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "collection_settings",
        sa.Column("promise_grace_workdays", sa.Integer(), nullable=False, server_default="2"),
    )


def downgrade() -> None:
    with op.batch_alter_table("collection_settings") as batch_op:
        batch_op.drop_column("promise_grace_workdays")
    with op.batch_alter_table("contract") as batch_op:
        batch_op.drop_column("late_fee_compound")
        batch_op.drop_column("late_fee_day_count")
        batch_op.drop_column("late_fee_rate_per_year")
