"""Alembic migrations of the metadata store; applied by ``loopml.store.upgrade``."""
