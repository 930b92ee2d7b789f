"""The embedded SDK suites, run again through a live server (remote mode).

The test functions are the embedded ones; this folder's ``client`` and
``fluent`` fixtures point them at ``http://`` instead of a database. Left
out: garbage collection (server-side only) and on-disk corruption (the
server's object store is not the client's; see ``test_remote_artifacts``).
"""

from __future__ import annotations

from test_client import (
    test_artifact_paths_cannot_escape,
    test_artifacts_round_trip,
    test_asynchronous_writes_flush_and_surface_errors,
    test_bad_item_rejects_the_whole_batch,
    test_experiment_search_and_tag_deletion,
    test_invalid_metric_names_are_rejected,
    test_log_figure,
    test_long_param_values_are_rejected,
    test_non_numeric_metric_values_are_rejected,
    test_numpy_and_special_values_are_accepted,
    test_queued_param_change_fails_at_the_call,
    test_run_names_and_system_tags,
    test_set_terminated_with_bad_status,
)
from test_fluent import (
    test_artifacts_through_fluent,
    test_deleted_experiment_cannot_take_runs,
    test_exception_marks_run_failed,
    test_nested_runs,
    test_param_change_fails_at_once,
    test_run_block_logs_everything,
    test_search_runs_dataframe_and_list,
    test_writes_after_end_are_rejected_and_resume_works,
)

__all__ = [
    "test_artifact_paths_cannot_escape",
    "test_artifacts_round_trip",
    "test_artifacts_through_fluent",
    "test_asynchronous_writes_flush_and_surface_errors",
    "test_bad_item_rejects_the_whole_batch",
    "test_deleted_experiment_cannot_take_runs",
    "test_exception_marks_run_failed",
    "test_experiment_search_and_tag_deletion",
    "test_invalid_metric_names_are_rejected",
    "test_log_figure",
    "test_long_param_values_are_rejected",
    "test_nested_runs",
    "test_non_numeric_metric_values_are_rejected",
    "test_numpy_and_special_values_are_accepted",
    "test_param_change_fails_at_once",
    "test_queued_param_change_fails_at_the_call",
    "test_run_block_logs_everything",
    "test_run_names_and_system_tags",
    "test_search_runs_dataframe_and_list",
    "test_set_terminated_with_bad_status",
    "test_writes_after_end_are_rejected_and_resume_works",
]
