"""Alembic environment: always driven programmatically with a live connection."""

from __future__ import annotations

from alembic import context

from loopml.store import _governance_models  # noqa: F401  (its tables join Base.metadata)
from loopml.store._models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
