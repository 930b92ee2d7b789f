"""Data validation: profiles, schemas inferred from a reference, and check suites.

::

    from loopml.validation import Suite, infer_schema, profile

    profile("train.parquet").to_dict()          # per column: counts, quantiles, top values
    suite = Suite.from_schema(infer_schema(reference_df))
    result = Suite.from_yaml("checks.yaml").run("new.parquet")
    result.passed, [r.message for r in result.failed]

``loopml validate DATA --suite FILE`` runs a suite from the command line and
exits 1 when a check fails, so it gates a CI pipeline.
"""

from loopml.validation._checks import (
    Allowed,
    Check,
    CheckResult,
    ColumnType,
    Custom,
    MaxMissing,
    Range,
    RowCount,
    Unique,
)
from loopml.validation._frame import KINDS, Kind, column_kind, load_frame
from loopml.validation._profile import ColumnProfile, Histogram, Profile, profile
from loopml.validation._schema import ColumnSchema, Schema, infer_schema
from loopml.validation._suite import Suite, ValidationResult

__all__ = [
    "KINDS",
    "Allowed",
    "Check",
    "CheckResult",
    "ColumnProfile",
    "ColumnSchema",
    "ColumnType",
    "Custom",
    "Histogram",
    "Kind",
    "MaxMissing",
    "Profile",
    "Range",
    "RowCount",
    "Schema",
    "Suite",
    "Unique",
    "ValidationResult",
    "column_kind",
    "infer_schema",
    "load_frame",
    "profile",
]
