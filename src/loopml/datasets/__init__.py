"""The dataset registry: named, numbered versions of data, and the runs that read them.

::

    from loopml.datasets import Datasets

    datasets = Datasets()                          # over loopml.tracking.get_client()
    v = datasets.register("iris", "data/iris.csv") # version 1: content id, schema, profile
    datasets.get("iris@1").rows                    # 150
    datasets.log_input("iris@1", run_id)           # the run read exactly this data
    datasets.lineage("models:/iris@champion")      # [DatasetVersion(name='iris', version=1...)]

A version is content in the object store (a blob for a file, a tree for a
folder, shared with data repositories, runs and models), with its size, file
count, source and, for CSV and Parquet data, its schema, row count and a
per-column profile. Registering the newest version's content again returns
that version; content an older version holds becomes a new version, so the
newest version is always what was registered last. Embedded or against a
loopml server, the same calls behave the same. The fluent forms are
``lm.register_dataset``, ``lm.log_input`` and ``lm.dataset_lineage``.
"""

from loopml.datasets._datasets import Datasets, Registration, open_dataset_store
from loopml.datasets._lineage import DEFAULT_CONTEXT, SOURCE_TYPE, dataset_input
from loopml.datasets._validation import (
    parse_dataset_ref,
    validate_dataset_name,
    validate_dataset_version,
)
from loopml.store.dataset_records import (
    DATASET_SCHEME,
    ColumnProfile,
    Dataset,
    DatasetVersion,
    NewDatasetVersion,
)

__all__ = [
    "DATASET_SCHEME",
    "DEFAULT_CONTEXT",
    "SOURCE_TYPE",
    "ColumnProfile",
    "Dataset",
    "DatasetVersion",
    "Datasets",
    "NewDatasetVersion",
    "Registration",
    "dataset_input",
    "open_dataset_store",
    "parse_dataset_ref",
    "validate_dataset_name",
    "validate_dataset_version",
]
