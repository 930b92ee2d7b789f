"""Which column type and which test, following Evidently 0.7's DataDriftPreset.

Column type, unless the caller says otherwise: floats numerical; integers
categorical up to 10 distinct values, numerical above; strings, booleans and
pandas categories categorical, except strings with more than half of their
values distinct, which are free text (``TEXT``: ids, comments; Evidently runs
a text-content test on them, loopml has none and reports them as untested
rather than flagging every new id as category drift); datetimes left out (as
in Evidently 0.7).

Default test, decided on the values left after dropping missing ones (as
Evidently does), with ``n_unique`` counted over both sides together:

==========================  ============================  ==========================
column                      reference rows <= 1000        reference rows > 1000
==========================  ============================  ==========================
numerical, n_unique > 5     ``ks`` (p < 0.05)             ``wasserstein`` (>= 0.1)
numerical, n_unique <= 5    ``chisquare``, or ``z`` if    ``jensenshannon`` (>= 0.1)
                            n_unique <= 2 (p < 0.05)
categorical                 ``chisquare``, or ``z`` if    ``jensenshannon`` (>= 0.1)
                            n_unique <= 2 (p < 0.05)
==========================  ============================  ==========================
"""

from __future__ import annotations

import pandas as pd

from loopml.monitoring._stattests import CATEGORICAL, NUMERICAL, STATTESTS, StatTest

SMALL_REFERENCE_ROWS = 1000
FEW_UNIQUE = 5
INTEGER_CARDINALITY_LIMIT = 10
TEXT = "text"
TEXT_DISTINCT_SHARE = 0.5


def infer_column_type(series: pd.Series) -> str | None:
    """Evidently 0.7's inference: ``None`` for columns drift does not test.

    Floats are numerical; integers are categorical up to 10 distinct values
    (codes, ratings) and numerical above; booleans, categories and strings
    are categorical, but strings with more than half of the non-missing values
    distinct are ``TEXT``; datetimes and other objects have no drift test.
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL
    if pd.api.types.is_float_dtype(dtype):
        return NUMERICAL
    if pd.api.types.is_integer_dtype(dtype):
        return CATEGORICAL if series.nunique() <= INTEGER_CARDINALITY_LIMIT else NUMERICAL
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        non_missing = series.dropna()
        if non_missing.empty or isinstance(non_missing.iloc[0], str):
            if non_missing.nunique() > TEXT_DISTINCT_SHARE * len(non_missing):
                return TEXT
            return CATEGORICAL
    return None


def _n_unique_both(reference: pd.Series, current: pd.Series, cap: int) -> int:
    """Distinct values over both sides, without concatenating the full columns.

    Only whether the count exceeds ``cap`` matters, so a side that alone
    exceeds it answers early.
    """
    ref_unique = reference.unique()
    if len(ref_unique) > cap:
        return len(ref_unique)
    cur_unique = current.unique()
    if len(cur_unique) > cap:
        return len(cur_unique)
    return int(pd.Series(list(ref_unique) + list(cur_unique)).nunique())


def default_stattest(reference: pd.Series, current: pd.Series, column_type: str) -> StatTest:
    """Evidently's automatic choice for one column (missing values already dropped)."""
    n_unique = _n_unique_both(reference, current, FEW_UNIQUE)
    if len(reference) <= SMALL_REFERENCE_ROWS:
        if column_type == NUMERICAL and n_unique > FEW_UNIQUE:
            return STATTESTS["ks"]
        return STATTESTS["chisquare"] if n_unique > 2 else STATTESTS["z"]
    if column_type == NUMERICAL and n_unique > FEW_UNIQUE:
        return STATTESTS["wasserstein"]
    return STATTESTS["jensenshannon"]
