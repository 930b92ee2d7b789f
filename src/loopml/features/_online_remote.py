"""Remote mode: online lookups answered by a loopml server (``POST /api/v1/features/online``).

``RemoteOnlineFeatures`` has ``OnlineFeatures.get_online``; the server runs
the same lookup beside its online store, so values, errors and staleness are
the same embedded and remote. ``open_online_features`` picks one for a
tracking client. Bytes features come back base64-encoded (JSON has no bytes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from loopml.core.errors import InvalidArgument
from loopml.features._definitions import FeatureService
from loopml.features._lookup import OnlineResult, entity_columns
from loopml.features._online import OnlineStore
from loopml.features._online_service import Features, OnlineFeatures
from loopml.store import SqlTrackingStore
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore


class RemoteOnlineFeatures:
    """The online lookups of the loopml server a tracking client talks to."""

    def __init__(self, client: Client) -> None:
        if not isinstance(client.store, RestTrackingStore):
            raise InvalidArgument(f"{client.tracking_uri!r} is not a loopml server.")
        self.client = client
        self._rest = client.store

    def get_online(
        self,
        features: Features,
        entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
        request_data: Mapping[str, Any] | None = None,
        *,
        full_feature_names: bool = False,
    ) -> OnlineResult:
        """Each entity row's values, timestamps and staleness, looked up by the server.

        A ``FeatureService`` is sent by name: the server uses the registered one.
        """
        body: dict[str, Any] = {"full_feature_names": full_feature_names}
        if isinstance(features, FeatureService):
            body["feature_service"] = features.name
        elif isinstance(features, str):
            body["feature_service"] = features
        else:
            body["features"] = list(features)
        body["entities"] = entity_columns(entity_rows)
        if request_data:
            body["request_data"] = entity_columns(request_data)
        encoded = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
        answer = self._rest.call("POST", "/features/online", body=encoded)
        return OnlineResult(
            tuple(answer["features"]),
            answer["values"],
            answer["event_timestamps_ms"],
            answer["stale"],
            int(answer["rows"]),
        )

    def close(self) -> None:
        """Nothing to release: the tracking client owns the connection."""


def open_online_features(
    client: Client | None = None, *, online: OnlineStore | str | None = None
) -> OnlineFeatures | RemoteOnlineFeatures:
    """Lookups for a tracking client: embedded on a database, else through its server.

    Naming an ``online`` store looks it up from this process even against a
    server (a team's Redis reached directly is faster than a round trip).
    """
    client = client if client is not None else get_client()
    if isinstance(client.store, SqlTrackingStore) or online is not None:
        return OnlineFeatures(client, online=online)
    return RemoteOnlineFeatures(client)
