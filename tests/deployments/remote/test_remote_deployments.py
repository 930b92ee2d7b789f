"""The deployment and prediction-log suites again, through a live server."""

from __future__ import annotations

from deployments_support import prediction, unique
from test_deployment_service import (
    test_lifecycle_and_revisions,
    test_routing_rules_hold_on_create_and_update,
)
from test_prediction_log import (
    test_bad_labels_are_refused_and_store_nothing,
    test_labels_join_by_request_id,
    test_rows_segments_and_index,
    test_time_range_reads_only_overlapping_segments,
)

from loopml.deployments import Deployments, PredictionLogger, read_predictions
from loopml.tracking import Client
from server.live_server import LiveServer

__all__ = [
    "test_bad_labels_are_refused_and_store_nothing",
    "test_labels_join_by_request_id",
    "test_lifecycle_and_revisions",
    "test_routing_rules_hold_on_create_and_update",
    "test_rows_segments_and_index",
    "test_time_range_reads_only_overlapping_segments",
]


def test_remote_segments_land_in_the_servers_stores(
    client: Client, deployments_server: LiveServer
) -> None:
    name = unique("shared")
    with PredictionLogger(client, name) as logger:
        logger.record(prediction(name, "r1", 5, rows=2))
    local = Client(
        deployments_server.tracking_uri, object_store_uri=deployments_server.object_store_uri
    )
    try:
        [segment] = Deployments(local).list_segments(name)
        assert local.objects.exists(segment.blob_id) and segment.rows == 2
        assert read_predictions(name, client=local).equals(read_predictions(name, client=client))
    finally:
        local.close()
