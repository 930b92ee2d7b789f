"""Foundation: the error table, settings from the environment, ids and hashing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopml.core import errors
from loopml.core.hashing import hash_bytes, hash_stream, is_hash
from loopml.core.ids import is_run_id, new_run_id
from loopml.core.settings import load_settings


@pytest.mark.parametrize(
    ("cls", "status", "code"),
    [
        (errors.InvalidArgument, 400, "INVALID_PARAMETER_VALUE"),
        (errors.InvalidState, 400, "INVALID_STATE"),
        (errors.NotFound, 404, "RESOURCE_DOES_NOT_EXIST"),
        (errors.AlreadyExists, 409, "RESOURCE_ALREADY_EXISTS"),
        (errors.PermissionDenied, 403, "PERMISSION_DENIED"),
        (errors.Unauthenticated, 401, "UNAUTHENTICATED"),
        (errors.CorruptObject, 500, "DATA_LOSS"),
    ],
)
def test_each_error_names_its_status_and_code(cls, status: int, code: str) -> None:
    error = cls("boom")
    assert (error.http_status, error.error_code) == (status, code)
    assert error.to_dict() == {"error_code": code, "message": "boom"}
    rebuilt = errors.error_from_code(code, "boom")
    assert isinstance(rebuilt, cls) and rebuilt.message == "boom"


def test_unknown_error_code_maps_to_the_root() -> None:
    assert type(errors.error_from_code("SOMETHING_NEW", "x")) is errors.LoopmlError


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOOPML_HOME", str(tmp_path))
    monkeypatch.setenv("LOOPML_FLUSH_MAX_ITEMS", "7")
    settings = load_settings()
    assert settings.flush_max_items == 7
    assert settings.resolved_tracking_uri() == f"sqlite:///{tmp_path.resolve() / 'loopml.db'}"
    assert load_settings(flush_max_items=9).flush_max_items == 9
    monkeypatch.setenv("LOOPML_TRACKING_URI", "postgresql+psycopg://u@h/db")
    assert load_settings().resolved_tracking_uri() == "postgresql+psycopg://u@h/db"


def test_run_ids_have_mlflow_shape() -> None:
    run_id = new_run_id()
    assert is_run_id(run_id) and len(run_id) == 32
    assert not is_run_id("../" + run_id[3:])


@given(st.binary(max_size=5000))
def test_stream_and_bytes_hash_agree(data: bytes) -> None:
    digest = hash_bytes(data)
    assert is_hash(digest)
    assert hash_stream(io.BytesIO(data), read_size=7) == digest


@pytest.mark.parametrize("bad", ["", "A" * 64, "g" * 64, "a" * 63, "../" + "a" * 61])
def test_is_hash_rejects_anything_else(bad: str) -> None:
    assert not is_hash(bad)
