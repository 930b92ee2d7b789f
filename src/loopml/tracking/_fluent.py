"""The fluent SDK: ``with lm.start_run(): lm.log_metric(...)``.

One process-wide ``Client`` and, per thread, a stack of active runs (nested
runs push onto it). Logging calls queue their values in the client's
batcher and return at once; the run's end flushes them. At interpreter exit,
runs still open are finished and everything queued is written.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from loopml.core.clock import now_ms
from loopml.core.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound
from loopml.core.settings import load_settings
from loopml.store import (
    ArtifactEntry,
    DatasetInput,
    Experiment,
    FileInfo,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from loopml.tracking._client import Client
from loopml.tracking._frames import runs_to_frame
from loopml.tracking._provenance import capture_provenance, store_artifacts
from loopml.tracking._validation import validate_experiment_name

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_EXPERIMENT_ID = "0"


class _State(threading.local):
    def __init__(self) -> None:
        self.stack: list[ActiveRun] = []


_lock = threading.RLock()
_thread = _State()
_tracking_uri: str | None = None
_client: Client | None = None
_experiment_id: str | None = None
_last_run_id: str | None = None


class ActiveRun:
    """A run started by ``start_run``; a context manager that ends it.

    Leaving the block normally marks the run FINISHED, by an exception FAILED,
    by Ctrl-C KILLED.
    """

    def __init__(self, run: Run) -> None:
        self._run = run

    @property
    def info(self) -> RunInfo:
        return self._run.info

    @property
    def data(self) -> RunData:
        """The run's current data (queued values are written first)."""
        return get_client().get_run(self._run.info.run_id).data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        _end_through(self.info.run_id, status)


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Point the SDK at a store: ``sqlite:///path.db``, ``postgresql+psycopg://...``.

    A plain folder path means the SQLite database ``loopml.db`` inside it.
    """
    global _tracking_uri, _client, _experiment_id
    text = os.fspath(uri)
    if "://" not in text:
        text = f"sqlite:///{os.path.abspath(os.path.join(text, 'loopml.db'))}"
    with _lock:
        if _client is not None:
            _client.flush()
        _tracking_uri, _client, _experiment_id = text, None, None


def get_tracking_uri() -> str:
    return get_client().tracking_uri


def get_client() -> Client:
    """The process-wide client the fluent functions use."""
    global _client
    with _lock:
        if _client is None:
            _client = Client(_tracking_uri, settings=load_settings())
        return _client


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment active for later runs, creating it by name if needed."""
    global _experiment_id
    experiment = _resolve_experiment(experiment_name, experiment_id)
    _experiment_id = experiment.experiment_id
    return experiment


def _resolve_experiment(name: str | None, experiment_id: str | None) -> Experiment:
    client = get_client()
    experiment: Experiment | None
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    elif name is not None:
        validate_experiment_name(name)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            # Another process may create it first: then use theirs.
            with contextlib.suppress(AlreadyExists):
                client.create_experiment(name)
            experiment = client.get_experiment_by_name(name)
            assert experiment is not None
    else:
        raise InvalidArgument("Give an experiment name or an experiment id.")
    if experiment.lifecycle_stage != "active":
        raise InvalidState(
            f"Experiment {experiment.name!r} is deleted: restore it with "
            f"`loopml experiments restore {experiment.experiment_id}` or pick another name."
        )
    return experiment


def _default_experiment_id() -> str:
    if _experiment_id is not None:
        return _experiment_id
    name = os.environ.get("LOOPML_EXPERIMENT_NAME")
    return set_experiment(name).experiment_id if name else DEFAULT_EXPERIMENT_ID


def start_run(
    run_id: str | None = None,
    experiment: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it active in this thread.

    ``experiment`` names an experiment (created if missing); ``experiment_id``
    picks one by id. With ``nested=True`` the new run is a child of the
    active one.
    """
    global _last_run_id
    client = get_client()
    stack = _thread.stack
    if stack and not nested:
        raise InvalidState(
            f"Run {stack[-1].info.run_id} is already active. End it first, or call "
            "start_run(nested=True) to start a child run."
        )
    parent = parent_run_id or (stack[-1].info.run_id if stack and nested else None)
    if run_id is not None:
        run = client.get_run(run_id)
        if run.info.lifecycle_stage != "active":
            raise InvalidState(f"Run {run_id} is deleted: restore it before resuming it.")
        client.update_run(run_id, status=RunStatus.RUNNING)
        run = client.get_run(run_id)
    else:
        exp_id = (
            _resolve_experiment(experiment, experiment_id).experiment_id
            if experiment is not None or experiment_id is not None
            else _default_experiment_id()
        )
        captured = (
            capture_provenance() if parent is None and client.settings.capture_provenance else None
        )
        all_tags = {
            **(captured.tags if captured is not None else {}),
            "mlflow.source.name": os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "",
            "mlflow.source.type": "LOCAL",
            **(tags or {}),
        }
        if description is not None:
            all_tags["mlflow.note.content"] = description
        run = client.create_run(exp_id, tags=all_tags, run_name=run_name, parent_run_id=parent)
        if captured is not None:
            store_artifacts(client, run.info.run_id, captured)
    active = ActiveRun(run)
    stack.append(active)
    _last_run_id = run.info.run_id
    return active


def _end_through(run_id: str, status: str) -> None:
    """End ``run_id`` and any runs nested above it on this thread's stack."""
    stack = _thread.stack
    ids = [r.info.run_id for r in stack]
    if run_id not in ids:
        return
    while stack:
        top = stack.pop()
        get_client().set_terminated(top.info.run_id, status)
        if top.info.run_id == run_id:
            return


def end_run(status: str = "FINISHED") -> None:
    """End the active run (queued values are written first)."""
    if _thread.stack:
        _end_through(_thread.stack[-1].info.run_id, status)


def active_run() -> ActiveRun | None:
    return _thread.stack[-1] if _thread.stack else None


def last_active_run() -> Run | None:
    """The run most recently started in this process, as it is now."""
    return get_client().get_run(_last_run_id) if _last_run_id else None


def _run_id_for_write() -> str:
    if _thread.stack:
        return _thread.stack[-1].info.run_id
    run = start_run()  # MLflow starts a run implicitly on the first write
    return run.info.run_id


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool = False,
) -> None:
    get_client().log_metric(_run_id_for_write(), key, value, timestamp, step, synchronous)


def log_metrics(
    metrics: dict[str, float],
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool = False,
) -> None:
    when = timestamp or now_ms()
    items = [Metric(k, v, when, step or 0) for k, v in metrics.items()]
    get_client().log_batch(_run_id_for_write(), metrics=items, synchronous=synchronous)


def log_param(key: str, value: Any, synchronous: bool = False) -> Any:
    return get_client().log_param(_run_id_for_write(), key, value, synchronous)


def log_params(params: dict[str, Any], synchronous: bool = False) -> None:
    items = [Param(k, v) for k, v in params.items()]
    get_client().log_batch(_run_id_for_write(), params=items, synchronous=synchronous)


def set_tag(key: str, value: Any, synchronous: bool = False) -> None:
    get_client().set_tag(_run_id_for_write(), key, value, synchronous)


def set_tags(tags: dict[str, Any], synchronous: bool = False) -> None:
    items = [RunTag(k, v) for k, v in tags.items()]
    get_client().log_batch(_run_id_for_write(), tags=items, synchronous=synchronous)


def delete_tag(key: str) -> None:
    run_id = _run_id_for_write()
    get_client().flush(run_id)
    get_client().delete_tag(run_id, key)


def log_input(dataset: DatasetInput) -> None:
    """Record that the active run read a dataset (lineage)."""
    get_client().log_inputs(_run_id_for_write(), [dataset])


def log_artifact(local_path: str, artifact_path: str | None = None) -> ArtifactEntry:
    return get_client().log_artifact(_run_id_for_write(), local_path, artifact_path)


def log_artifacts(local_dir: str, artifact_path: str | None = None) -> list[ArtifactEntry]:
    return get_client().log_artifacts(_run_id_for_write(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> ArtifactEntry:
    return get_client().log_text(_run_id_for_write(), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str) -> ArtifactEntry:
    return get_client().log_dict(_run_id_for_write(), dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> ArtifactEntry:
    return get_client().log_figure(_run_id_for_write(), figure, artifact_file)


def _target_run(run_id: str | None) -> str:
    if run_id:
        return run_id
    if _thread.stack:
        return _thread.stack[-1].info.run_id
    raise NotFound("No active run: pass run_id, or call this inside `with lm.start_run():`.")


def list_artifacts(run_id: str | None = None, path: str | None = None) -> list[FileInfo]:
    return get_client().list_artifacts(_target_run(run_id), path)


def download_artifacts(
    run_id: str | None = None, artifact_path: str = "", dst_path: str | None = None
) -> str:
    return get_client().download_artifacts(_target_run(run_id), artifact_path, dst_path)


def get_run(run_id: str) -> Run:
    return get_client().get_run(run_id)


def flush() -> None:
    """Write everything queued now; raise anything that failed in the background."""
    get_client().flush()


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | str = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Search runs across experiments; a DataFrame (MLflow's columns) or a list of runs."""
    client = get_client()
    ids = [str(e) for e in experiment_ids or []]
    for name in experiment_names or []:
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            ids.append(experiment.experiment_id)
    if not ids and not experiment_names:
        ids = [_default_experiment_id()]
    runs: list[Run] = []
    token: str | None = None
    while len(runs) < max_results and ids:
        page = client.search_runs(
            ids, filter_string, run_view_type, min(max_results - len(runs), 50_000), order_by, token
        )
        runs.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return runs
    if output_format != "pandas":
        raise InvalidArgument(f"output_format must be 'pandas' or 'list', not {output_format!r}.")
    return runs_to_frame(runs)


def _at_exit() -> None:
    # Finish what the program left open, as MLflow does, and write every queued value.
    while _thread.stack:
        _end_through(_thread.stack[-1].info.run_id, RunStatus.FINISHED)
    if _client is not None:
        _client.close()


atexit.register(_at_exit)
