"""Remote mode: the tracking store and the artifacts of a loopml server, over HTTP.

``RestTrackingStore`` implements the ``TrackingStore`` interface against the
server's native API (``/api/v1``), so ``Client`` and the fluent SDK work
unchanged when the tracking URI is ``http(s)://``. One ``httpx.Client`` per
store keeps connections alive; bodies are compact JSON (NaN and infinity
travel as the ``NaN``/``Infinity`` constants, as Python's json writes them).

This module is the one seam for httpx: a failure to reach the server (or a
5xx answer) becomes ``StorageError``, which the batcher retries; an error
body ``{"error_code", "message"}`` becomes the ``LoopmlError`` it names.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import blake3
import httpx
from pydantic import TypeAdapter

from loopml.core.credentials import auth_headers
from loopml.core.errors import (
    CorruptObject,
    InvalidArgument,
    LoopmlError,
    NotFound,
    StorageError,
    Unauthenticated,
    error_from_code,
)
from loopml.core.settings import Settings, load_settings
from loopml.objects import ChunkReader, write_chunks_atomically
from loopml.store import (
    ArtifactEntry,
    DatasetInput,
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    TrackingStore,
    ViewType,
)
from loopml.tracking._artifacts import (
    Progress,
    checked_file,
    file_path,
    finish_download,
    folder_files,
    join,
    single_file,
)
from loopml.tracking._json import dumps
from loopml.tracking._validation import validate_artifact_path

API_PREFIX = "/api/v1"
READ_SIZE = 1024 * 1024

_RUN = TypeAdapter(Run)
_RUNS = TypeAdapter(list[Run])
_RUN_INFO = TypeAdapter(RunInfo)
_EXPERIMENT = TypeAdapter(Experiment)
_EXPERIMENTS = TypeAdapter(list[Experiment])
_METRICS = TypeAdapter(list[Metric])
_ENTRY = TypeAdapter(ArtifactEntry)
_ENTRIES = TypeAdapter(list[ArtifactEntry])
_FILES = TypeAdapter(list[FileInfo])


def is_remote_uri(uri: str) -> bool:
    return uri.lower().startswith(("http://", "https://"))


def _body(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _seg(value: str) -> str:
    """One path segment, percent-encoded (ids and keys may hold '/', ' ', ':')."""
    return quote(str(value), safe="")


def _path(value: str) -> str:
    """A key or artifact path kept as path segments."""
    return quote(value, safe="/")


def error_of(response: httpx.Response) -> LoopmlError:
    """The ``LoopmlError`` an error answer stands for (5xx: StorageError, to retry)."""
    status = response.status_code
    try:
        body = response.json()
        code, message = str(body["error_code"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "", f"HTTP {status}: {response.text[:200]}"
    if code == "DATA_LOSS":
        return CorruptObject(message)
    if status >= 500 or status == 429:
        return StorageError(f"The tracking server at {response.url} failed: {message}")
    if status == 401:
        server = f"{response.url.scheme}://{response.url.netloc.decode()}"
        return Unauthenticated(
            f"{message} Run `loopml login --server {server}` or set LOOPML_TRACKING_TOKEN."
        )
    error = error_from_code(code, message)
    if type(error) is LoopmlError:  # a code outside the tree: 404 route, 405, 413 ...
        return InvalidArgument(f"{message} ({response.request.method} {response.url.path})")
    return error


class RestTrackingStore(TrackingStore):
    """The tracking store of a loopml server at ``uri`` (``http(s)://host:port``)."""

    def __init__(
        self, uri: str, *, timeout_seconds: float = 60.0, settings: Settings | None = None
    ) -> None:
        self.uri = uri.rstrip("/")
        self._settings = settings
        self._timeout = httpx.Timeout(timeout_seconds, connect=5.0)
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget_after_fork)

    def _forget_after_fork(self) -> None:
        # Sockets must not be shared with the parent: the child opens its own.
        self._http, self._lock = None, threading.Lock()

    @property
    def http(self) -> httpx.Client:
        """The keep-alive HTTP client (connect errors are retried: nothing was sent).

        It sends the API token known for this server (``LOOPML_TRACKING_TOKEN`` or
        ``loopml login``), so every remote client built on this store authenticates.
        """
        with self._lock:
            if self._http is None:
                settings = self._settings or load_settings()
                self._http = httpx.Client(
                    base_url=self.uri + API_PREFIX,
                    timeout=self._timeout,
                    transport=httpx.HTTPTransport(retries=2),
                    headers={"Accept": "application/json", **auth_headers(settings, self.uri)},
                )
            return self._http

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    @contextlib.contextmanager
    def reaching(self) -> Iterator[None]:
        """Translate httpx failures (the one seam) into StorageError."""
        try:
            yield
        except httpx.HTTPError as exc:
            raise StorageError(
                f"Cannot reach the tracking server at {self.uri}: {exc.__class__.__name__}: {exc}"
            ) from exc

    def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        params: dict[str, Any] | None = None,
        *,
        body: bytes | None = None,
    ) -> Any:
        """One JSON request (``payload``, or ``body`` already encoded); the decoded answer."""
        content = body if body is not None else None if payload is None else _body(payload)
        headers = None if content is None else {"Content-Type": "application/json"}
        with self.reaching():
            response = self.http.request(
                method, path, content=content, params=params, headers=headers
            )
        if not response.is_success:
            raise error_of(response)
        return response.json() if response.content else {}

    # -- experiments -----------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        payload = {"name": name, "artifact_location": artifact_location, "tags": tags or {}}
        return str(self.call("POST", "/experiments", payload)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        body = self.call("GET", f"/experiments/{_seg(experiment_id)}")
        return _EXPERIMENT.validate_python(body["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            body = self.call("GET", "/experiments/by-name", params={"name": name})
        except NotFound:
            return None
        return _EXPERIMENT.validate_python(body["experiment"])

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> PagedList[Experiment]:
        params: dict[str, Any] = {
            "view_type": ViewType(view_type).value,
            "max_results": max_results,
        }
        if page_token:
            params["page_token"] = page_token
        if filter_string:
            params["filter"] = filter_string
        if order_by:
            params["order_by"] = list(order_by)
        body = self.call("GET", "/experiments", params=params)
        return PagedList(_EXPERIMENTS.validate_python(body["experiments"]), body["next_page_token"])

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.call("PATCH", f"/experiments/{_seg(experiment_id)}", {"name": new_name})

    def set_experiment_lifecycle(self, experiment_id: str, stage: LifecycleStage) -> None:
        path = f"/experiments/{_seg(experiment_id)}"
        if LifecycleStage(stage) is LifecycleStage.DELETED:
            self.call("DELETE", path)
        else:
            self.call("POST", f"{path}/restore")

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.call("POST", f"/experiments/{_seg(experiment_id)}/tags", {"key": key, "value": value})

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.call("DELETE", f"/experiments/{_seg(experiment_id)}/tags/{_path(key)}")

    # -- runs ------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        parent_run_id: str | None = None,
        user_id: str = "",
    ) -> Run:
        payload = {
            "experiment_id": experiment_id,
            "run_name": run_name,
            "start_time": start_time,
            "tags": {t.key: t.value for t in tags},
            "parent_run_id": parent_run_id,
            "user_id": user_id,
        }
        return _RUN.validate_python(self.call("POST", "/runs", payload)["run"])

    def get_run(self, run_id: str) -> Run:
        return _RUN.validate_python(self.call("GET", f"/runs/{_seg(run_id)}")["run"])

    def update_run(
        self,
        run_id: str,
        *,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        payload = {"status": status, "end_time": end_time, "run_name": run_name}
        body = self.call("PATCH", f"/runs/{_seg(run_id)}", payload)
        return _RUN_INFO.validate_python(body["run_info"])

    def set_run_lifecycle(self, run_id: str, stage: LifecycleStage, when: int) -> None:
        # The server records its own clock as the deletion time.
        if LifecycleStage(stage) is LifecycleStage.DELETED:
            self.call("DELETE", f"/runs/{_seg(run_id)}")
        else:
            self.call("POST", f"/runs/{_seg(run_id)}/restore")

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        batch_id: str | None = None,
    ) -> None:
        if not (metrics or params or tags):
            return
        payload: dict[str, Any] = {
            "metrics": [
                {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}
                for m in metrics
            ],
            "params": [{"key": p.key, "value": p.value} for p in params],
            "tags": [{"key": t.key, "value": t.value} for t in tags],
        }
        if batch_id is not None:
            payload["batch_id"] = batch_id
        body = dumps(payload, (m.value for m in metrics))
        self.call("POST", f"/runs/{_seg(run_id)}/batch", body=body)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.call("DELETE", f"/runs/{_seg(run_id)}/tags/{_path(key)}")

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        body = self.call("GET", f"/runs/{_seg(run_id)}/metrics/{_path(key)}")
        return _METRICS.validate_python(body["metrics"])

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        payload = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "filter": filter_string or "",
            "order_by": list(order_by or ()),
            "view_type": ViewType(view_type).value,
            "max_results": max_results,
            "page_token": page_token,
        }
        body = self.call("POST", "/runs/search", payload)
        return PagedList(_RUNS.validate_python(body["runs"]), body["next_page_token"])

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        payload = {"datasets": [_DATASET.dump_python(d) for d in datasets]}
        self.call("POST", f"/runs/{_seg(run_id)}/inputs", payload)

    # -- artifact index --------------------------------------------------------
    def record_artifacts(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        """Index contents the server stores already (it checks each blob exists)."""
        payload = {"entries": [_ENTRY.dump_python(e) for e in entries]}
        self.call("POST", f"/runs/{_seg(run_id)}/artifact-entries", payload)

    def list_artifact_entries(self, run_id: str, prefix: str = "") -> list[ArtifactEntry]:
        body = self.call("GET", f"/runs/{_seg(run_id)}/artifact-entries", params={"prefix": prefix})
        return _ENTRIES.validate_python(body["entries"])

    def referenced_blobs(self) -> Iterator[str]:
        raise _server_only("Garbage collection")

    def purge_deleted_runs(self, deleted_before: int) -> list[str]:
        raise _server_only("Purging deleted runs")


_DATASET = TypeAdapter(DatasetInput)


def _server_only(what: str) -> InvalidArgument:
    return InvalidArgument(
        f"{what} runs beside the stores, not through the API: run `loopml gc` on the server."
    )


class RemoteArtifacts:
    """Run artifacts through the server's endpoints; bytes are verified by their hash."""

    def __init__(self, store: RestTrackingStore) -> None:
        self._store = store

    def _url(self, run_id: str, path: str = "") -> str:
        base = f"/runs/{_seg(run_id)}/artifacts"
        return f"{base}/{_path(path)}" if path else base

    def _upload(self, run_id: str, path: str, chunks: Iterator[bytes]) -> ArtifactEntry:
        with self._store.reaching():
            response = self._store.http.put(
                self._url(run_id, path),
                content=chunks,
                headers={"Content-Type": "application/octet-stream"},
            )
        if not response.is_success:
            raise error_of(response)
        return _ENTRY.validate_python(response.json()["entry"])

    def log_file(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None
    ) -> ArtifactEntry:
        path = checked_file(local_path)
        target = join(validate_artifact_path(artifact_path), path.name)
        return self._upload(run_id, target, _file_chunks(path))

    def log_folder(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None,
        progress: Progress | None,
    ) -> list[ArtifactEntry]:
        return [
            self._upload(run_id, target, _file_chunks(file))
            for file, target in folder_files(local_dir, artifact_path, progress)
        ]

    def log_stream(self, run_id: str, stream: BinaryIO, artifact_file: str) -> ArtifactEntry:
        return self._upload(run_id, file_path(artifact_file), _stream_chunks(stream))

    def list_folder(self, run_id: str, path: str | None) -> list[FileInfo]:
        folder = validate_artifact_path(path)
        body = self._store.call("GET", self._url(run_id), params={"path": folder})
        return _FILES.validate_python(body["files"])

    def list_entries(self, run_id: str, prefix: str) -> list[ArtifactEntry]:
        return self._store.list_artifact_entries(run_id, validate_artifact_path(prefix))

    def index(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        self._store.record_artifacts(run_id, entries)

    def open(self, run_id: str, artifact_file: str) -> tuple[ArtifactEntry, BinaryIO]:
        path = file_path(artifact_file)
        entry = single_file(run_id, path, self.list_entries(run_id, path))
        return entry, io.BufferedReader(ChunkReader(self._chunks(run_id, entry)))

    def _chunks(self, run_id: str, entry: ArtifactEntry) -> Iterator[bytes]:
        """The verified bytes of one artifact file, streamed from the server."""
        hasher = blake3.blake3()
        with (
            self._store.reaching(),
            self._store.http.stream("GET", self._url(run_id, entry.path)) as response,
        ):
            if not response.is_success:
                response.read()
                raise error_of(response)
            for chunk in response.iter_bytes(READ_SIZE):
                hasher.update(chunk)
                yield chunk
        if hasher.hexdigest() != entry.blob_id:
            raise CorruptObject(
                f"Artifact {entry.path!r} of run {run_id} arrived damaged: its bytes do not "
                f"match their hash {entry.blob_id}."
            )

    def download(
        self,
        run_id: str,
        path: str | None,
        dst_path: str | os.PathLike[str],
        progress: Progress | None,
    ) -> str:
        source = validate_artifact_path(path)
        entries = self.list_entries(run_id, source)
        if not entries and source:
            raise NotFound(
                f"Run {run_id} has no artifact {source!r}: list_artifacts shows what it has."
            )
        destination = Path(dst_path)
        for done, entry in enumerate(entries, start=1):
            target = destination.joinpath(*entry.path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            write_chunks_atomically(target, self._chunks(run_id, entry))
            if progress:
                progress(done, len(entries))
        return finish_download(destination, source, bool(entries))


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as source:
        yield from _stream_chunks(source)


def _stream_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(READ_SIZE):
        yield chunk
