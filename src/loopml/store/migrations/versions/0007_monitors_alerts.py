"""monitors, their window results, alert rules and alert events

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("deployment", sa.String(length=256), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("last_window_end", sa.BigInteger(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("monitors", schema=None) as batch_op:
        batch_op.create_index("ix_monitors_deployment", ["deployment"], unique=False)
    op.create_table(
        "monitor_results",
        sa.Column("monitor", sa.String(length=256), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("window_end", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("drift", sa.Text(), nullable=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["monitor"], ["monitors.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("monitor", "window_start"),
    )
    op.create_table(
        "alert_rules",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("monitor", sa.String(length=256), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("cooldown_ms", sa.BigInteger(), nullable=False),
        sa.Column("destinations", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_fired_window_end", sa.BigInteger(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["monitor"], ["monitors.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.create_index("ix_alert_rules_monitor", ["monitor"], unique=False)
    op.create_table(
        "alert_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=256), nullable=False),
        sa.Column("monitor", sa.String(length=256), nullable=False),
        sa.Column("deployment", sa.String(length=256), nullable=False),
        sa.Column("metric", sa.String(length=256), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("window_end", sa.BigInteger(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.create_index("ux_alert_events_rule_window", ["rule", "window_start"], unique=True)
        batch_op.create_index("ix_alert_events_monitor", ["monitor"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_events_monitor")
        batch_op.drop_index("ux_alert_events_rule_window")
    op.drop_table("alert_events")
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_rules_monitor")
    op.drop_table("alert_rules")
    op.drop_table("monitor_results")
    with op.batch_alter_table("monitors", schema=None) as batch_op:
        batch_op.drop_index("ix_monitors_deployment")
    op.drop_table("monitors")
