"""pipeline schedules and the step cache

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_schedules",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("cron", sa.String(length=256), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("missed", sa.String(length=16), nullable=False),
        sa.Column("executor", sa.String(length=16), nullable=False),
        sa.Column("workdir", sa.Text(), nullable=False),
        sa.Column("next_run_time", sa.BigInteger(), nullable=False),
        sa.Column("last_fire_time", sa.BigInteger(), nullable=True),
        sa.Column("last_run_id", sa.String(length=32), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("pipeline_schedules", schema=None) as batch_op:
        batch_op.create_index("ix_pipeline_schedules_due", ["next_run_time"], unique=False)
    op.create_table(
        "step_cache",
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("run_uuid", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=256), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("cache_key"),
    )
    with op.batch_alter_table("step_cache", schema=None) as batch_op:
        batch_op.create_index("ix_step_cache_run_uuid", ["run_uuid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("step_cache", schema=None) as batch_op:
        batch_op.drop_index("ix_step_cache_run_uuid")
    op.drop_table("step_cache")
    with op.batch_alter_table("pipeline_schedules", schema=None) as batch_op:
        batch_op.drop_index("ix_pipeline_schedules_due")
    op.drop_table("pipeline_schedules")
