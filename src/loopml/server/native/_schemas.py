"""The native API's bodies: requests and responses, built on the store's records.

Records (``loopml.store.records``) are the one description of each entity;
the models here only wrap them, so the OpenAPI schema documents exactly what
the SDK gets back. Requests forbid unknown fields and are validated strictly
(see ``_route``); responses write NaN and infinity as the JSON constants
``NaN``/``Infinity`` (what Python's json reads), since metrics can hold them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from loopml.store import (
    SEARCH_MAX_RESULTS,
    ArtifactEntry,
    DatasetInput,
    Experiment,
    FileInfo,
    Metric,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)

Millis = Annotated[int, Field(ge=-(2**63), le=2**63 - 1, description="ms since the epoch")]

BATCH_ID = Field(
    default=None,
    min_length=1,
    max_length=64,
    pattern=r"^[A-Za-z0-9._-]+$",
    description="Makes the write idempotent: a batch whose id was stored before is skipped.",
)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Response(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="constants")


# -- requests ---------------------------------------------------------------------


class CreateExperiment(Request):
    name: str
    artifact_location: str | None = None
    tags: dict[str, str] = {}


class RenameExperiment(Request):
    name: str


class SetTag(Request):
    key: str
    value: str


class CreateRun(Request):
    experiment_id: str = "0"
    run_name: str | None = None
    start_time: Millis | None = None
    tags: dict[str, str] = {}
    parent_run_id: str | None = None
    user_id: str | None = Field(default=None, description="Defaults to the server's user.")


class UpdateRun(Request):
    status: str | None = None
    run_name: str | None = None
    end_time: Millis | None = Field(
        default=None, description="Recorded with a terminal status; default: now."
    )


class TerminateRun(Request):
    status: str = "FINISHED"
    end_time: Millis | None = None


class LogBatch(Request):
    metrics: list[Metric] = []
    params: list[Param] = []
    tags: list[RunTag] = []
    batch_id: str | None = BATCH_ID


class SearchRuns(Request):
    experiment_ids: list[str]
    filter: str = Field(default="", description="MLflow's filter language.")
    order_by: list[str] = []
    view_type: ViewType = ViewType.ACTIVE_ONLY
    max_results: int = Field(default=1000, ge=1, le=SEARCH_MAX_RESULTS)
    page_token: str | None = None


class LogInputs(Request):
    datasets: list[DatasetInput]


class IndexArtifacts(Request):
    entries: list[ArtifactEntry]


# -- responses --------------------------------------------------------------------


class Empty(Response):
    pass


class ExperimentIdOut(Response):
    experiment_id: str


class ExperimentOut(Response):
    experiment: Experiment


class ExperimentsPage(Response):
    experiments: list[Experiment]
    next_page_token: str | None = None


class RunOut(Response):
    run: Run


class RunInfoOut(Response):
    run_info: RunInfo


class RunsPage(Response):
    runs: list[Run]
    next_page_token: str | None = None


class MetricHistory(Response):
    metrics: list[Metric]


class Files(Response):
    files: list[FileInfo]


class Entries(Response):
    entries: list[ArtifactEntry]


class EntryOut(Response):
    entry: ArtifactEntry
