"""Stored API tokens: one private file keyed by server, the setting wins over it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from loopml.core.credentials import (
    auth_headers,
    credentials_path,
    forget_token,
    read_credentials,
    server_key,
    store_token,
)
from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings


def test_store_read_and_forget(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert read_credentials(home) == {}
    path = store_token(home, "HTTP://Server:5000/", "lmt_a_b")
    store_token(home, "https://other", "lmt_c_d")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_credentials(home) == {"http://server:5000": "lmt_a_b", "https://other": "lmt_c_d"}
    store_token(home, "http://server:5000", "lmt_new_one")
    assert read_credentials(home)["http://server:5000"] == "lmt_new_one"
    assert forget_token(home, "http://server:5000/") is True
    assert forget_token(home, "http://server:5000") is False
    assert read_credentials(home) == {"https://other": "lmt_c_d"}
    assert [p.name for p in path.parent.iterdir()] == ["credentials"]  # no temp file left


def test_headers_prefer_the_setting(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert auth_headers(Settings(home=home), "http://h:1") == {}
    store_token(home, "http://h:1", "lmt_stored_x")
    assert auth_headers(Settings(home=home), "http://h:1/") == {
        "Authorization": "Bearer lmt_stored_x"
    }
    assert auth_headers(Settings(home=home, tracking_token="lmt_env_y"), "http://h:1") == {
        "Authorization": "Bearer lmt_env_y"
    }
    assert "lmt_env_y" not in repr(Settings(home=home, tracking_token="lmt_env_y"))


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"http://h": 3}'])
def test_a_broken_file_is_named(tmp_path: Path, content: str) -> None:
    path = credentials_path(tmp_path)
    path.write_text(content)
    with pytest.raises(InvalidArgument, match="credentials"):
        read_credentials(tmp_path)


@pytest.mark.parametrize("url", ["ftp://h", "h:5000", "http://", ""])
def test_bad_server_urls(url: str) -> None:
    with pytest.raises(InvalidArgument, match="server URL"):
        server_key(url)


@pytest.mark.parametrize("token", ["", " lmt_x", "lmt x", "lmt_x\n"])
def test_bad_tokens_are_not_stored(tmp_path: Path, token: str) -> None:
    with pytest.raises(InvalidArgument):
        store_token(tmp_path, "http://h", token)
    assert not credentials_path(tmp_path).exists()
