"""capture_environment, the lock's text form, and diff_environments."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import platform
import re
from pathlib import Path

import pytest

from loopml.core.errors import InvalidArgument
from loopml.core.hashing import hash_bytes
from loopml.provenance import (
    EnvironmentLock,
    canonical_name,
    capture_environment,
    diff_environments,
)


def lock(python: str = "3.11.9", **packages: str) -> EnvironmentLock:
    return EnvironmentLock(
        python=python,
        implementation="CPython",
        platform="Linux-test",
        packages=tuple(sorted(packages.items())),
    )


def test_lock_holds_this_interpreter_and_real_versions() -> None:
    env = capture_environment()
    assert env.python == platform.python_version()
    assert env.implementation == platform.python_implementation()
    assert env.platform == platform.platform()
    packages = dict(env.packages)
    for name in ("numpy", "pydantic", "sqlalchemy"):
        assert packages[canonical_name(name)] == importlib.metadata.version(name)
    names = [name for name, _ in env.packages]
    assert names == sorted(set(names))
    assert "loopml" in env.editable  # the project is installed from its folder


def test_lock_is_cached_per_process() -> None:
    assert capture_environment() is capture_environment()


def test_text_round_trips_and_is_a_requirements_file() -> None:
    env = capture_environment()
    text = env.text()
    assert text.startswith(f"# python: {env.python}\n# implementation: {env.implementation}\n")
    for line in text.splitlines():
        assert line.startswith("# ") or re.fullmatch(r"[a-z0-9][a-z0-9.-]*==\S+", line), line
    version = dict(env.packages)["loopml"]
    assert f"# loopml=={version} (installed from a local path)" in text.splitlines()
    parsed = EnvironmentLock.parse(text)
    assert parsed == dataclasses.replace(env, warnings=())
    assert parsed.text() == text


def test_digest_is_stable_and_follows_the_text() -> None:
    env = capture_environment()
    assert env.digest() == env.digest() == EnvironmentLock.parse(env.text()).digest()
    assert env.digest() == hash_bytes(env.text().encode())
    assert lock(numpy="2.0.0").digest() != lock(numpy="2.0.1").digest()


def test_parse_accepts_blank_lines_other_comments_and_unsorted_names() -> None:
    text = (
        "# python: 3.12.1\n# implementation: CPython\n# platform: x\n"
        "\n# a note\nZeta_Pkg==1\nalpha==2\n"
    )
    parsed = EnvironmentLock.parse(text)
    assert parsed.packages == (("alpha", "2"), ("zeta-pkg", "1"))
    assert parsed.python == "3.12.1" and parsed.editable == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# python: 3\n# implementation: C\n# platform: p\nnumpy>=1.0\n", "line 4"),
        ("# python: 3\n# implementation: C\n# platform: p\nnumpy\n", "name==version"),
        ("# python: 3\n# implementation: C\n# platform: p\na==1\nA==2\n", "pinned twice"),
        ("numpy==1.0\n", "'# python: ...' line is missing"),
        ("# python: 3\n# platform: p\n", "'# implementation: ...' line is missing"),
    ],
)
def test_parse_rejects_malformed_locks(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        EnvironmentLock.parse(text)


def test_parse_rejects_non_text() -> None:
    with pytest.raises(InvalidArgument, match="is text"):
        EnvironmentLock.parse(b"numpy==1")  # type: ignore[arg-type]


def test_diff_environments() -> None:
    a = lock("3.11.9", numpy="1.26.4", pandas="2.2.0", scipy="1.13.0")
    b = lock("3.12.3", numpy="2.0.0", pandas="2.2.0", torch="2.3.0")
    diff = diff_environments(a, b)
    assert diff.added == (("torch", "2.3.0"),)
    assert diff.removed == (("scipy", "1.13.0"),)
    assert diff.changed == (("numpy", "1.26.4", "2.0.0"),)
    assert diff.python == ("3.11.9", "3.12.3")
    assert not diff.empty
    same = diff_environments(a, dataclasses.replace(a, platform="other"))
    assert same.empty and same.python is None


def dist_info(site: Path, folder: str, metadata: bytes | None, **files: str) -> Path:
    info = site / folder
    info.mkdir(parents=True)
    if metadata is not None:
        (info / "METADATA").write_bytes(metadata)
    for name, text in files.items():
        (info / name.replace("_json", ".json")).write_text(text)
    return info


def test_unreadable_metadata_is_a_warning(tmp_path: Path) -> None:
    site, later = tmp_path / "site", tmp_path / "later"
    dist_info(
        site, "good_pkg-1.2.dist-info", b"Metadata-Version: 2.1\nName: Good_Pkg\nVersion: 1.2\n"
    )
    dist_info(site, "broken-1.0.dist-info", b"Name: broken\nVersion: \xff\xfe\n")
    (dist_info(site, "folder-1.0.dist-info", None) / "METADATA").mkdir()
    dist_info(site, "nameless-1.0.dist-info", b"Metadata-Version: 2.1\n\nName: in-body\n")
    dist_info(
        site,
        "mine-0.1.dist-info",
        b"Name: mine\nVersion: 0.1\n",
        direct_url_json=json.dumps({"url": "file:///src/mine", "dir_info": {"editable": True}}),
    )
    dist_info(
        site,
        "fromweb-3.0.dist-info",
        b"Name: fromweb\nVersion: 3.0\n",
        direct_url_json=json.dumps({"url": "https://example.com/fromweb-3.0.tar.gz"}),
    )
    dist_info(later, "good_pkg-9.9.dist-info", b"Name: good-pkg\nVersion: 9.9\n")

    env = capture_environment(path=[str(site), str(later)])

    assert env.packages == (("fromweb", "3.0"), ("good-pkg", "1.2"), ("mine", "0.1"))
    assert env.editable == ("mine",)
    assert len(env.warnings) == 3
    assert sum("broken-1.0.dist-info" in w for w in env.warnings) == 1
    assert all(w.startswith("skipped") for w in env.warnings)
    assert "# mine==0.1 (installed from a local path)" in env.text().splitlines()


def test_bad_path_argument() -> None:
    with pytest.raises(InvalidArgument, match="list of folder names"):
        capture_environment(path="/usr/lib")
