"""Override parsing, value overrides on composed configs, and interpolation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from loopml.configuration import Override, compose, parse_override
from loopml.core.errors import InvalidArgument


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a=0.01", 0.01),
        ("a=10", 10),
        ("a=-3", -3),
        ("a=1_000", 1000),
        ("a=1e-3", 0.001),
        ("a=.5", 0.5),
        ("a=true", True),
        ("a=False", False),
        ("a=null", None),
        ("a=", ""),
        ("a=yes", "yes"),  # YAML 1.1 would say True; Hydra keeps the text
        ("a=2024-01-01", "2024-01-01"),
        ("a=rf", "rf"),
        ("a=hello world", "hello world"),
        ("a='0.01'", "0.01"),
        ('a="x,y"', "x,y"),
        ("a='it\\'s'", "it's"),
        ("a=[1,2]", [1, 2]),
        ("a=[]", []),
        ("a=[a, 'b,c', [1]]", ["a", "b,c", [1]]),
        ("a={x: 1, y: [true]}", {"x": 1, "y": [True]}),
        ("a={x:1}", {"x": 1}),
        ("a=${train.lr}", "${train.lr}"),
        ("a=lr=${oc.env:A,b}", "lr=${oc.env:A,b}"),
        ("a=http://host:80/x", "http://host:80/x"),
        ("a=x\\,y", "x,y"),
    ],
)
def test_values_parse_like_hydra(text: str, value: Any) -> None:
    parsed = parse_override(text)
    assert parsed == Override("set", "a", value, text=text)
    assert type(parsed.value) is type(value)


def test_special_floats() -> None:
    assert parse_override("a=inf").value == math.inf
    assert math.isnan(parse_override("a=nan").value)


def test_kinds_and_keys() -> None:
    assert parse_override("+train.lr=1").kind == "add"
    assert parse_override("++train.lr=1").kind == "force"
    bare = parse_override("~train.lr")
    assert (bare.kind, bare.key, bare.has_value) == ("delete", "train.lr", False)
    valued = parse_override("~train.lr=0.1")
    assert (valued.kind, valued.value, valued.has_value) == ("delete", 0.1, True)
    assert parse_override("my-group/sub_1=x").key == "my-group/sub_1"


@pytest.mark.parametrize(
    "text",
    ["lr", "+lr", "=1", "1a=2", "a..b=1", "a.=1", "a b=1", "+++a=1", "a=[1", "a={x}", "a='x"],
)
def test_malformed_overrides_show_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidArgument, match="accepted forms: key=value") as info:
        parse_override(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize("text", ["a=1,2", "a=range(3)", "a=choice(x,y)"])
def test_sweep_value_outside_multirun_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgument, match=r"sweep.*-m"):
        parse_override(text)


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    (tmp_path / "config.yaml").write_text(
        "train:\n  lr: 0.1\n  epochs: 10\n  layers: [64, 64]\nname: base\nseed: 1\n"
    )
    return tmp_path


def test_set_changes_existing_keys_in_order(conf: Path) -> None:
    cfg = compose(conf, overrides=["train.lr=0.01", "train.layers=[8]", "train.lr=0.02"])
    assert cfg.select("train.lr") == 0.02
    assert cfg.select("train.layers") == [8]
    assert compose(conf, overrides=["train={a: 1}"])["train"] == {"a": 1}


def test_set_missing_key_suggests_close_match_and_plus(conf: Path) -> None:
    with pytest.raises(InvalidArgument) as info:
        compose(conf, overrides=["train.lrr=0.01"])
    assert str(info.value) == (
        "No key 'train.lrr' in the configuration; did you mean 'train.lr'? "
        "To add it as a new key, use +train.lrr=0.01"
    )
    with pytest.raises(InvalidArgument, match=r"No key 'model.depth'"):
        compose(conf, overrides=["model.depth=3"])
    with pytest.raises(InvalidArgument, match="'name' is 'base', not a mapping"):
        compose(conf, overrides=["name.x=3"])


def test_add_and_force(conf: Path) -> None:
    cfg = compose(conf, overrides=["+train.momentum=0.9", "+model.depth=3", "++seed=2", "++z=1"])
    assert cfg.select("train.momentum") == 0.9
    assert cfg["model"] == {"depth": 3}
    assert (cfg["seed"], cfg["z"]) == (2, 1)
    with pytest.raises(InvalidArgument, match=r"exists already.*drop the '\+'"):
        compose(conf, overrides=["+train.lr=0.5"])


def test_delete(conf: Path) -> None:
    assert "seed" not in compose(conf, overrides=["~seed"])
    assert "lr" not in compose(conf, overrides=["~train.lr=0.1"])["train"]
    with pytest.raises(InvalidArgument, match=r"'train.lr' is 0.1, not 0.2, so it was not deleted"):
        compose(conf, overrides=["~train.lr=0.2"])
    with pytest.raises(InvalidArgument, match=r"No key 'sed'.*did you mean 'seed'"):
        compose(conf, overrides=["~sed"])


def test_slash_key_that_is_not_a_group(conf: Path) -> None:
    with pytest.raises(InvalidArgument, match="not a group of the defaults list"):
        compose(conf, overrides=["db/engine=x"])


def test_overrides_must_be_a_list(conf: Path) -> None:
    with pytest.raises(InvalidArgument, match="list of strings"):
        compose(conf, overrides="train.lr=1")


def interpolated(tmp_path: Path, text: str, **kwargs: Any) -> dict[str, Any]:
    (tmp_path / "config.yaml").write_text(text)
    return compose(tmp_path, **kwargs).data


def test_interpolation_typed_and_embedded(tmp_path: Path) -> None:
    data = interpolated(
        tmp_path,
        "train:\n  lr: 0.1\n  layers: [1, 2]\n  tag: lr=${train.lr}\n  sib: ${.lr}\n"
        "copy: ${train}\nsecond: ${train.layers.1}\nlit: \\${train.lr}\n",
    )
    assert data["train"]["tag"] == "lr=0.1"
    assert data["train"]["sib"] == 0.1
    assert data["copy"] == {"lr": 0.1, "layers": [1, 2], "tag": "lr=0.1", "sib": 0.1}
    assert data["second"] == 2
    assert data["lit"] == "${train.lr}"


def test_interpolation_sees_overrides(tmp_path: Path) -> None:
    data = interpolated(
        tmp_path,
        "a: 1\nb: ${a}\n",
        overrides=["a=5", "+c=x${b}", "++d=${oc.env:V}"],
        env={"V": "v"},
    )
    assert data == {"a": 5, "b": 5, "c": "x5", "d": "v"}


def test_env_resolver(tmp_path: Path) -> None:
    text = "a: ${oc.env:USER_X}\nb: ${oc.env:MISSING_X,anon}\nc: ${oc.env:MISSING_X,null}\n"
    data = interpolated(tmp_path, text, env={"USER_X": "ada"})
    assert data == {"a": "ada", "b": "anon", "c": None}
    with pytest.raises(InvalidArgument, match=r"'MISSING_X' is not set.*give a default"):
        interpolated(tmp_path, "a: ${oc.env:MISSING_X}\n", env={})
    with pytest.raises(InvalidArgument, match=r"only resolver is oc.env"):
        interpolated(tmp_path, "a: ${now:}\n")


def test_unknown_reference_suggests(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"\$\{train.lrr\} at 'x'.*did you mean 'train.lr'"):
        interpolated(tmp_path, "train:\n  lr: 1\nx: ${train.lrr}\n")


@pytest.mark.parametrize(
    ("text", "cycle"),
    [
        ("a: ${b}\nb: ${a}\n", "a -> b -> a"),
        ("a: ${a}\n", "a -> a"),
        ("a:\n  b: ${a}\n", "a -> a.b -> a"),
        ("x: ${y.z}\ny:\n  z: v${x}\n", "x -> y.z -> x"),
    ],
)
def test_interpolation_cycle_is_named(tmp_path: Path, text: str, cycle: str) -> None:
    with pytest.raises(InvalidArgument, match=f"Interpolation cycle: {cycle};"):
        interpolated(tmp_path, text)


def test_unclosed_interpolation(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="Unclosed interpolation"):
        interpolated(tmp_path, "a: 'x${b'\n")
