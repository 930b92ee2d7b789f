"""automation policies, their runs, events and per-model locks

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("cursors", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.create_index("ix_policies_model", ["model"], unique=False)
    op.create_table(
        "policy_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("policy", sa.String(length=256), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("canary_started", sa.BigInteger(), nullable=True),
        sa.Column("lease_owner", sa.String(length=256), nullable=True),
        sa.Column("heartbeat_time", sa.BigInteger(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("finished_time", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("policy_runs", schema=None) as batch_op:
        batch_op.create_index("ix_policy_runs_policy", ["policy"], unique=False)
        batch_op.create_index("ix_policy_runs_state", ["state"], unique=False)
    op.create_table(
        "policy_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("policy", sa.String(length=256), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("links", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("policy_events", schema=None) as batch_op:
        batch_op.create_index("ix_policy_events_run", ["run_id"], unique=False)
        batch_op.create_index("ix_policy_events_policy", ["policy"], unique=False)
    op.create_table(
        "policy_locks",
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("policy", sa.String(length=256), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("model"),
    )


def downgrade() -> None:
    op.drop_table("policy_locks")
    with op.batch_alter_table("policy_events", schema=None) as batch_op:
        batch_op.drop_index("ix_policy_events_policy")
        batch_op.drop_index("ix_policy_events_run")
    op.drop_table("policy_events")
    with op.batch_alter_table("policy_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_policy_runs_state")
        batch_op.drop_index("ix_policy_runs_policy")
    op.drop_table("policy_runs")
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_index("ix_policies_model")
    op.drop_table("policies")
