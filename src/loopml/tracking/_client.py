"""``Client``: every tracking operation, explicit about which run and experiment.

The fluent API (``lm.start_run`` ...) is a thin layer over one ``Client``;
the CLI and the server call the same methods. Writes are synchronous unless
``synchronous=False``, which queues them in the client's batcher.

With an ``http(s)://`` tracking URI the client talks to a loopml server: the
store is ``RestTrackingStore``, artifacts go through the server's endpoints
(no object store credentials needed), queued batches are spooled on local
disk before they are sent, and spools left by dead processes are replayed
when the client is created.
"""

from __future__ import annotations

import getpass
import io
import json
import os
import tempfile
from collections.abc import Sequence
from typing import Any, BinaryIO

import yaml

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings, load_settings
from loopml.objects import ObjectStore
from loopml.store import (
    ArtifactEntry,
    DatasetInput,
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    NewRun,
    PagedList,
    Param,
    PointColumns,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    TrackingStore,
    ViewType,
)
from loopml.tracking._artifacts import ArtifactRepository
from loopml.tracking._batcher import LogBatcher
from loopml.tracking._gc import GcSummary, collect_garbage
from loopml.tracking._names import random_run_name
from loopml.tracking._resolve import (
    default_object_store_uri,
    open_artifacts,
    open_objects,
    open_spool,
    open_tracking_store,
    replay_on_start,
)
from loopml.tracking._rest import RestTrackingStore
from loopml.tracking._validation import (
    validate_batch,
    validate_dataset_input,
    validate_experiment_name,
    validate_key,
    validate_metric,
    validate_param,
    validate_run_name,
    validate_tag,
)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Client:
    """Explicit access to experiments, runs, metrics, params, tags and artifacts."""

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        settings: Settings | None = None,
        object_store_uri: str | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.tracking_uri = tracking_uri or self.settings.resolved_tracking_uri()
        self.store: TrackingStore = open_tracking_store(self.tracking_uri, self.settings)
        self.object_store_uri = object_store_uri or default_object_store_uri(
            self.tracking_uri, self.settings
        )
        self._objects: ObjectStore | None = None
        self._batcher: LogBatcher | None = None
        self._queued_params: dict[str, dict[str, str]] = {}
        self.artifacts: ArtifactRepository = open_artifacts(self.store, lambda: self.objects)
        replay_on_start(self.store, self.settings)

    @property
    def is_remote(self) -> bool:
        """Whether this client talks to a loopml server (``http(s)://``)."""
        return isinstance(self.store, RestTrackingStore)

    @property
    def objects(self) -> ObjectStore:
        """The object store holding artifact bytes (opened on first use; embedded mode only)."""
        if self.is_remote:
            raise InvalidArgument(
                "A client of a loopml server has no object store of its own: artifacts go "
                "through the server (log_artifact, download_artifacts)."
            )
        if self._objects is None:
            self._objects = open_objects(self.object_store_uri, self.settings)
        return self._objects

    @property
    def batcher(self) -> LogBatcher:
        if self._batcher is None:
            self._batcher = LogBatcher(
                self.store,
                max_items=self.settings.flush_max_items,
                interval_seconds=self.settings.flush_interval_seconds,
                spool=open_spool(self.store, self.settings),
                delivery_timeout=self.settings.delivery_timeout_seconds,
            )
        return self._batcher

    # -- experiments ---------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
    ) -> str:
        """Create an experiment and return its id."""
        validate_experiment_name(name)
        checked = {
            t.key: t.value for t in (validate_tag(RunTag(k, v)) for k, v in (tags or {}).items())
        }
        return self.store.create_experiment(name, artifact_location, checked)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> PagedList[Experiment]:
        """Experiments matching MLflow's experiment filter language, by ``order_by`` then id."""
        return self.store.search_experiments(
            _view(view_type), max_results, page_token, filter_string, order_by
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.store.rename_experiment(str(experiment_id), validate_experiment_name(new_name))

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment and its runs (restore_experiment undoes it)."""
        self.store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        tag = validate_tag(RunTag(key, value))
        self.store.set_experiment_tag(str(experiment_id), tag.key, tag.value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.store.delete_experiment_tag(str(experiment_id), validate_key(key, "tag"))

    # -- runs ------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
        parent_run_id: str | None = None,
        user_id: str | None = None,
    ) -> Run:
        """Start a RUNNING run; a memorable name is chosen when none is given.

        ``user_id`` defaults to the user running this process.
        """
        user_tags = {
            t.key: t.value for t in (validate_tag(RunTag(k, v)) for k, v in (tags or {}).items())
        }
        name = validate_run_name(run_name or user_tags.get("mlflow.runName") or random_run_name())
        user = user_id or _user()
        system = {"mlflow.runName": name, "mlflow.user": user}
        if parent_run_id:
            system["mlflow.parentRunId"] = parent_run_id
        merged = {**system, **user_tags, "mlflow.runName": name}
        return self.store.create_run(
            str(experiment_id),
            run_name=name,
            start_time=start_time or now_ms(),
            tags=[RunTag(k, v) for k, v in merged.items()],
            parent_run_id=parent_run_id,
            user_id=user,
        )

    def create_runs(self, experiment_id: str, runs: Sequence[NewRun]) -> list[str]:
        """Create whole runs (ended or not) in one write; return their ids in order.

        For many runs known at once (tuning trials): every run is validated
        first, then all are written together or, on bad input, none. The
        store adds the system tags (run name, user, parent) as ``create_run``
        does; ``user_id`` defaults to the user running this process.
        """
        user = _user()
        checked = []
        for new in runs:  # the per-run path of bulk writes: few objects per run
            metrics, params, tags = validate_batch(new.metrics, new.params, new.tags)
            name = validate_run_name(new.run_name)
            status = _STATUSES.get(new.status) or _status(new.status)
            if (
                new.user_id
                and status == new.status
                and _same(metrics, new.metrics)
                and _same(params, new.params)
                and _same(tags, new.tags)
            ):
                checked.append(new)  # valid as given: nothing to copy
                continue
            checked.append(
                NewRun(
                    name,
                    new.start_time,
                    new.end_time,
                    status,
                    new.parent_run_id,
                    new.user_id or user,
                    tuple(metrics),
                    tuple(params),
                    tuple(tags),
                )
            )
        if self._batcher is not None:
            self._batcher.raise_pending_error()
        return self.store.create_runs(str(experiment_id), checked)

    def get_run(self, run_id: str) -> Run:
        """The run with the latest value of each metric, its params, tags and inputs."""
        self._flush_quietly(run_id)
        return self.store.get_run(run_id)

    def set_terminated(
        self, run_id: str, status: str = "FINISHED", end_time: int | None = None
    ) -> RunInfo:
        """End a run: queued writes are flushed first, then the status is set."""
        final = _status(status)
        if self._batcher is not None:
            self._batcher.flush(run_id)
        self._queued_params.pop(run_id, None)
        return self.store.update_run(run_id, status=final, end_time=end_time or now_ms())

    def update_run(
        self,
        run_id: str,
        status: str | None = None,
        name: str | None = None,
        end_time: int | None = None,
    ) -> RunInfo:
        """Change a run's status or name; a terminal status records ``end_time`` (now)."""
        status_value = _status(status) if status else None
        end = end_time
        if end is None and status_value and RunStatus(status_value).is_terminated:
            end = now_ms()
        run_name = validate_run_name(name) if name is not None else None
        return self.store.update_run(run_id, status=status_value, end_time=end, run_name=run_name)

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run (restore_run undoes it; ``loopml gc`` purges it)."""
        self.store.set_run_lifecycle(run_id, LifecycleStage.DELETED, now_ms())

    def restore_run(self, run_id: str) -> None:
        self.store.set_run_lifecycle(run_id, LifecycleStage.ACTIVE, now_ms())

    # -- logging ---------------------------------------------------------------
    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool = True,
    ) -> None:
        metric = validate_metric(Metric(key, value, timestamp or now_ms(), step or 0))
        self._write(run_id, [metric], (), (), synchronous)

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool = True) -> Any:
        self._write(run_id, (), [validate_param(Param(key, value))], (), synchronous)
        return value

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool = True) -> None:
        self._write(run_id, (), (), [validate_tag(RunTag(key, value))], synchronous)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.store.delete_tag(run_id, validate_key(key, "tag"))

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool = True,
        batch_id: str | None = None,
    ) -> None:
        """Log many values at once: all are written, or (on bad input) none.

        With a ``batch_id`` the write is idempotent (a replayed batch is stored
        once); it is always synchronous then.
        """
        good = validate_batch(metrics, params, tags)
        if batch_id is not None:
            self.store.log_batch(run_id, *good, batch_id=batch_id)
            return
        self._write(run_id, *good, synchronous)

    def _write(
        self,
        run_id: str,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
        synchronous: bool,
    ) -> None:
        if synchronous:
            if self._batcher is not None:
                self._batcher.raise_pending_error()
            self.store.log_batch(run_id, metrics, params, tags)
        else:
            self._check_queued_params(run_id, params)
            self.batcher.add(run_id, metrics, params, tags)

    def _check_queued_params(self, run_id: str, params: Sequence[Param]) -> None:
        # Queued params are checked against this process's earlier ones at once,
        # so the common mistake fails at the call that makes it, not at a flush.
        seen = self._queued_params.setdefault(run_id, {})
        for param in params:
            old = seen.get(param.key)
            if old is not None and old != param.value:
                raise InvalidArgument(
                    f"Changing param values is not allowed. Param {param.key!r} was already "
                    f"logged with value {old!r} for run {run_id}; attempted new value "
                    f"{param.value!r}. Log it under another key, or start a new run."
                )
        for param in params:
            seen[param.key] = param.value

    def flush(self, run_id: str | None = None) -> None:
        """Write every queued value now; raise what failed in the background."""
        if self._batcher is not None:
            self._batcher.flush(run_id)

    def close(self) -> None:
        """Write everything queued and stop the background flusher."""
        if self._batcher is not None:
            self._batcher.close()

    def _flush_quietly(self, run_id: str | None) -> None:
        # Reads see this client's own queued writes (None: every run's); failures surface
        # on the next write.
        if self._batcher is not None:
            self._batcher.write_queued(run_id)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets the run read (lineage); all are checked before any is written."""
        self.store.log_inputs(run_id, [validate_dataset_input(d) for d in datasets])

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, ordered by step, then timestamp."""
        self._flush_quietly(run_id)
        return self.store.get_metric_history(run_id, key)

    def get_metric_columns(self, run_id: str, key: str) -> PointColumns:
        """Every point of a metric as arrays (steps, timestamps, values), ordered the same."""
        self._flush_quietly(run_id)
        return self.store.get_metric_columns(run_id, key)

    def search_runs(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str = "",
        run_view_type: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs matching MLflow's filter language.

        For example ``metrics.acc > 0.9 and params.model = 'rf'``.
        """
        ids = _experiment_ids(experiment_ids)
        self._flush_quietly(None)
        return self.store.search_runs(
            ids, filter_string, order_by, _view(run_view_type), max_results, page_token
        )

    def run_keys(
        self,
        experiment_ids: Sequence[str] | str,
        run_view_type: ViewType | str = ViewType.ACTIVE_ONLY,
    ) -> dict[str, list[str]]:
        """Every metric, param and tag key logged in the experiments (``metrics``, ``params``,
        ``tags``, each sorted), without loading runs: for column choosers and completion."""
        ids = _experiment_ids(experiment_ids)
        self._flush_quietly(None)
        return self.store.run_keys(ids, _view(run_view_type))

    # -- artifacts -------------------------------------------------------------
    def log_artifact(
        self, run_id: str, local_path: str, artifact_path: str | None = None
    ) -> ArtifactEntry:
        return self.artifacts.log_file(run_id, local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str, artifact_path: str | None = None, progress: Any = None
    ) -> list[ArtifactEntry]:
        return self.artifacts.log_folder(run_id, local_dir, artifact_path, progress)

    def log_artifact_stream(
        self, run_id: str, stream: BinaryIO, artifact_file: str
    ) -> ArtifactEntry:
        """Store what ``stream`` yields until its end as the artifact file ``artifact_file``."""
        return self.artifacts.log_stream(run_id, stream, artifact_file)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> ArtifactEntry:
        return self.log_artifact_stream(run_id, io.BytesIO(text.encode("utf-8")), artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> ArtifactEntry:
        """Save a dict as JSON, or YAML when the file ends in .yaml/.yml."""
        if artifact_file.endswith((".yaml", ".yml")):
            text = yaml.safe_dump(dictionary, sort_keys=False)
        else:
            text = json.dumps(dictionary, indent=2, default=str)
        return self.log_text(run_id, text, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> ArtifactEntry:
        """Save a matplotlib figure (any format it writes) or a plotly figure (.html)."""
        extension = os.path.splitext(artifact_file)[1].lstrip(".").lower() or "png"
        buffer = io.BytesIO()
        if hasattr(figure, "savefig"):
            figure.savefig(buffer, format=extension)
        elif hasattr(figure, "to_html") and extension == "html":
            buffer.write(figure.to_html(include_plotlyjs="cdn").encode("utf-8"))
        else:
            raise InvalidArgument(
                f"Cannot save a {type(figure).__name__} as {artifact_file!r}: pass a matplotlib "
                "figure, or a plotly figure with an .html file name."
            )
        buffer.seek(0)
        return self.log_artifact_stream(run_id, buffer, artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """The files and folders directly under ``path`` in a run's artifacts."""
        return self.artifacts.list_folder(run_id, path)

    def list_artifact_entries(self, run_id: str, prefix: str = "") -> list[ArtifactEntry]:
        """Every artifact file at or below ``prefix``, with its blob id and size."""
        return self.artifacts.list_entries(run_id, prefix)

    def index_artifacts(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        """Add index entries for contents already stored (InvalidArgument/NotFound otherwise)."""
        self.artifacts.index(run_id, entries)

    def open_artifact(self, run_id: str, artifact_file: str) -> tuple[ArtifactEntry, BinaryIO]:
        """One artifact file's entry and a reader that verifies its bytes as it reads."""
        return self.artifacts.open(run_id, artifact_file)

    def download_artifacts(
        self, run_id: str, path: str = "", dst_path: str | None = None, progress: Any = None
    ) -> str:
        """Copy artifacts to ``dst_path`` (a new temporary folder by default); return the path."""
        target = dst_path or tempfile.mkdtemp(prefix="loopml-artifacts-")
        return self.artifacts.download(run_id, path, target, progress)

    # -- maintenance -------------------------------------------------------------
    def gc(self, older_than_ms: int = 0, dry_run: bool = False) -> GcSummary:
        """Purge deleted runs older than ``older_than_ms`` and blobs nothing refers to."""
        if self.is_remote:
            raise InvalidArgument(
                "Garbage collection runs beside the stores: run `loopml gc` on the server."
            )
        return collect_garbage(
            self.store,
            self.objects,
            older_than_ms=older_than_ms,
            grace_seconds=self.settings.gc_grace_seconds,
            dry_run=dry_run,
        )


_STATUSES = {status.value: status.value for status in RunStatus}


def _same(checked: Sequence[Any], given: Sequence[Any]) -> bool:
    """Whether validation returned the very items given (nothing was normalized)."""
    return len(checked) == len(given) and all(a is b for a, b in zip(checked, given, strict=True))


def _status(status: str) -> str:
    try:
        return RunStatus(str(status).upper()).value
    except ValueError as exc:
        names = ", ".join(s.value for s in RunStatus)
        raise InvalidArgument(f"Invalid run status {status!r}: use one of {names}.") from exc


def _experiment_ids(experiment_ids: Sequence[str] | str) -> list[str]:
    """One id or several, as the store takes them (a list of strings)."""
    if isinstance(experiment_ids, str):
        return [experiment_ids]
    return [str(e) for e in experiment_ids]


def _view(view_type: ViewType | str) -> ViewType:
    try:
        return ViewType(str(view_type).upper())
    except ValueError as exc:
        raise InvalidArgument(
            f"Invalid view type {view_type!r}: use ACTIVE_ONLY, DELETED_ONLY or ALL."
        ) from exc
