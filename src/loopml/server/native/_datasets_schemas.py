"""Bodies of the native datasets API, built on the dataset records.

Responses wrap the frozen records of ``loopml.store.dataset_records`` (each
entity is still described once); requests forbid unknown fields and are
validated strictly from the raw bytes (``_route``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from loopml.store import ColumnProfile, Dataset, DatasetVersion, NewDatasetVersion

ObjectId = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="A BLAKE3 id (64 hex).")]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
MAX_IDS = 10_000


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Response(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="constants")


# -- requests ---------------------------------------------------------------------


class CreateDatasetVersion(Request):
    """A version whose content the server's object store holds already."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    content_id: ObjectId
    kind: Literal["file", "dir"]
    size: Count
    files: Count
    source: str = Field(max_length=100_000)
    description: str = ""
    tags: dict[str, str] = {}
    user: str = Field(default="", max_length=256)
    table_schema: dict[str, str] | None = Field(
        default=None, alias="schema", description="Column name -> Arrow type name, in order."
    )
    rows: Count | None = None
    profile: list[ColumnProfile] | None = None

    def new_version(self) -> NewDatasetVersion:
        return NewDatasetVersion(
            content_id=self.content_id,
            kind=self.kind,
            size=self.size,
            files=self.files,
            source=self.source,
            description=self.description,
            tags=dict(self.tags),
            user=self.user,
            schema=self.table_schema,
            rows=self.rows,
            profile=None if self.profile is None else tuple(self.profile),
        )


class ObjectIds(Request):
    ids: list[ObjectId] = Field(max_length=MAX_IDS)


class TreeEntryBody(Request):
    id: ObjectId
    size: Count
    mode: int = 0o644


class TreeBody(Request):
    entries: dict[str, TreeEntryBody]


# -- responses --------------------------------------------------------------------


class RegistrationOut(Response):
    dataset_version: DatasetVersion
    created: bool


class VersionOut(Response):
    dataset_version: DatasetVersion


class VersionsOut(Response):
    dataset_versions: list[DatasetVersion]


class DatasetsOut(Response):
    datasets: list[Dataset]


class MissingOut(Response):
    missing: list[str]


class ObjectOut(Response):
    id: str
    size: int


class TreeOut(Response):
    tree_id: str
