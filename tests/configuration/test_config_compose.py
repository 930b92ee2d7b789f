"""Composition from real config folders: defaults lists, groups, _self_ order, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from loopml.configuration import Config, compose, flatten
from loopml.core.errors import InvalidArgument


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return write(
        tmp_path / "conf",
        {
            "config.yaml": (
                "defaults:\n  - base\n  - model: rf\n  - db: null\n  - optional extra: none\n"
                "train:\n  lr: 0.1\n  epochs: 10\n"
            ),
            "base.yaml": "train:\n  lr: 0.5\n  batch: 32\nseed: 1\n",
            "model/rf.yaml": "defaults:\n  - optimizer: sgd\nn_estimators: 100\n",
            "model/xgb.yml": "max_depth: 6\n",
            "optimizer/sgd.yaml": "momentum: 0.9\n",
            "optimizer/adam.yaml": "beta1: 0.9\n",
            "db/sqlite.yaml": "url: sqlite://\n",
        },
    )


def test_defaults_groups_and_self_last(conf: Path) -> None:
    cfg = compose(conf)
    assert cfg.data == {
        "train": {"lr": 0.1, "batch": 32, "epochs": 10},  # primary wins over base
        "seed": 1,
        "optimizer": {"momentum": 0.9},
        "model": {"n_estimators": 100},
    }
    assert cfg.choices == {"model": "rf", "optimizer": "sgd"}  # db null, extra missing
    assert cfg.sources == ("base.yaml", "optimizer/sgd.yaml", "model/rf.yaml", "config.yaml")
    assert cfg["seed"] == 1 and len(cfg) == 4 and "db" not in cfg


def test_self_first_lets_defaults_override(tmp_path: Path) -> None:
    files = {"base.yaml": "x: 2\n", "g/a.yaml": "y: 3\n"}
    first = write(tmp_path / "first", {**files, "config.yaml": "defaults: [_self_, base]\nx: 1\n"})
    last = write(tmp_path / "last", {**files, "config.yaml": "defaults: [base, _self_]\nx: 1\n"})
    assert compose(first)["x"] == 2
    assert compose(last)["x"] == 1
    middle = write(
        tmp_path / "mid",
        {**files, "config.yaml": "defaults: [base, _self_, {g: a}]\nx: 1\ng: {y: 0, z: 0}\n"},
    )
    cfg = compose(middle)
    assert cfg.sources == ("base.yaml", "config.yaml", "g/a.yaml")
    assert cfg["g"] == {"y": 3, "z": 0}  # deep merge: the group keeps z, replaces y


def test_lists_are_replaced_not_merged(tmp_path: Path) -> None:
    root = write(
        tmp_path, {"config.yaml": "defaults: [base]\nl: [3]\n", "base.yaml": "l: [1, 2]\n"}
    )
    assert compose(root)["l"] == [3]


def test_group_override_applies_before_values_whatever_the_order(conf: Path) -> None:
    cfg = compose(conf, overrides=["model.max_depth=8", "model=xgb", "db=sqlite"])
    assert cfg["model"] == {"max_depth": 8}
    assert cfg["db"] == {"url": "sqlite://"}
    assert cfg.choices == {"model": "xgb", "db": "sqlite"}
    assert "optimizer" not in cfg  # rf's nested default went with it


def test_nested_group_can_be_chosen(conf: Path) -> None:
    cfg = compose(conf, overrides=["optimizer=adam"])
    assert cfg["optimizer"] == {"beta1": 0.9}
    assert cfg.choices["optimizer"] == "adam"


def test_group_add_remove_and_force(conf: Path) -> None:
    write(conf, {"extra2/on.yaml": "flag: true\n"})
    assert compose(conf, overrides=["+extra2=on"])["extra2"] == {"flag": True}
    assert "model" not in compose(conf, overrides=["~model"])
    assert "model" not in compose(conf, overrides=["~model=rf"])
    assert compose(conf, overrides=["++model=xgb"]).choices["model"] == "xgb"
    assert compose(conf, overrides=["++extra2=on"]).choices["extra2"] == "on"
    with pytest.raises(InvalidArgument, match=r"already in the defaults list; drop the '\+'"):
        compose(conf, overrides=["+model=xgb"])
    with pytest.raises(InvalidArgument, match="chosen option is 'rf', not 'xgb'"):
        compose(conf, overrides=["~model=xgb"])


def test_unknown_option_lists_available(conf: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"Unknown option 'svm' for group 'model'.*rf, xgb"):
        compose(conf, overrides=["model=svm"])


def test_override_entry_in_defaults_changes_earlier_group(conf: Path) -> None:
    write(conf, {"exp/fast.yaml": "defaults:\n  - override model: xgb\ntrain:\n  epochs: 1\n"})
    write(conf, {"config.yaml": "defaults:\n  - model: rf\n  - exp: fast\n  - _self_\n"})
    cfg = compose(conf)
    assert cfg.choices["model"] == "xgb"
    assert cfg["exp"] == {"train": {"epochs": 1}}
    assert compose(conf, overrides=["model=rf"]).choices["model"] == "rf"  # command line wins


def test_group_listed_twice_is_refused(tmp_path: Path) -> None:
    root = write(tmp_path, {"config.yaml": "defaults: [{m: a}, {m: a}]\n", "m/a.yaml": "x: 1\n"})
    with pytest.raises(InvalidArgument, match="listed twice"):
        compose(root)


def test_missing_non_optional_files(tmp_path: Path) -> None:
    root = write(tmp_path, {"config.yaml": "defaults: [nothere]\n", "other.yml": "a: 1\n"})
    with pytest.raises(InvalidArgument, match=r"No config file nothere\.yaml.*mark the entry"):
        compose(root)
    write(root, {"config.yaml": "defaults: [optional nothere]\n"})
    with pytest.raises(InvalidArgument, match="Refused 'optional nothere'"):
        compose(root)
    write(root, {"config.yaml": "defaults: [{m: x}]\n"})
    with pytest.raises(InvalidArgument, match="Unknown option 'x' for group 'm'; available: none"):
        compose(root)


def test_missing_primary_lists_yaml_files(tmp_path: Path) -> None:
    root = write(tmp_path, {"train.yaml": "a: 1\n", "eval.yml": "b: 2\n", "notes.txt": "x"})
    with pytest.raises(InvalidArgument, match=r"No config file config.yaml.*eval.yml, train.yaml"):
        compose(root)
    assert compose(root, "eval")["b"] == 2
    assert compose(root, "train.yaml")["a"] == 1
    with pytest.raises(InvalidArgument, match="does not exist"):
        compose(tmp_path / "nope")


def test_defaults_cycle_is_named(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "config.yaml": "defaults: [a]\n",
            "a.yaml": "defaults: [b]\n",
            "b.yaml": "defaults: [a]\n",
        },
    )
    with pytest.raises(InvalidArgument, match="cycle: a -> b -> a"):
        compose(root)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    root = write(tmp_path, {"config.yaml": "defaults: [base]\n", "base.yaml": "a: 1\nb: [1, 2\n"})
    with pytest.raises(InvalidArgument, match=r"Invalid YAML in base.yaml at line 3"):
        compose(root)
    write(root, {"base.yaml": "a: 1\n  b: 2\n"})
    with pytest.raises(InvalidArgument, match=r"base.yaml at line 2: mapping values"):
        compose(root)


@pytest.mark.parametrize("text", ["- 1\n- 2\n", "just text\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    root = write(tmp_path, {"config.yaml": text})
    with pytest.raises(InvalidArgument, match="must hold a mapping"):
        compose(root)


def test_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    assert compose(write(tmp_path, {"config.yaml": ""})).data == {}


@pytest.mark.parametrize(
    ("defaults", "problem"),
    [
        ("7", "'defaults' in config.yaml must be a list"),
        ("[[a]]", "Invalid defaults entry"),
        ("[{a: b, c: d}]", "Invalid defaults entry"),
        ("[{'weird model': x}]", "Invalid defaults entry"),
        ("[{m: [1]}]", "Invalid option"),
    ],
)
def test_malformed_defaults_list(tmp_path: Path, defaults: str, problem: str) -> None:
    root = write(tmp_path, {"config.yaml": f"defaults: {defaults}\n"})
    with pytest.raises(InvalidArgument, match=problem):
        compose(root)


def test_path_traversal_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("secret: 1\n")
    root = write(
        tmp_path / "conf", {"config.yaml": "defaults: [{model: rf}]\n", "model/rf.yaml": ""}
    )
    for name in ("../x", "/etc/passwd", "a/../../x", "..\\x"):
        with pytest.raises(InvalidArgument, match="config_name"):
            compose(root, name)
    for option in ("../../etc/passwd", "../../x", "sub/rf"):
        with pytest.raises(InvalidArgument, match="Refused"):
            compose(root, overrides=[f"model={option}"])
    write(root, {"config.yaml": "defaults: [../x]\n"})
    with pytest.raises(InvalidArgument, match="Refused"):
        compose(root)


def test_symlink_leaving_config_dir_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("secret: 1\n")
    root = write(tmp_path / "conf", {"config.yaml": "defaults: [{model: rf}]\n"})
    (root / "model").mkdir()
    (root / "model" / "rf.yaml").symlink_to(tmp_path / "outside.yaml")
    with pytest.raises(InvalidArgument, match="outside the config folder"):
        compose(root)


def test_config_select_and_serialisation(conf: Path) -> None:
    cfg = compose(conf, overrides=["+tags=[a, b]"])
    assert cfg.select("train.lr") == 0.1
    assert cfg.select("tags.1") == "b"
    assert cfg.select("train.nope", None) is None
    with pytest.raises(InvalidArgument, match=r"No key 'train.lrr'.*did you mean 'train.lr'\?"):
        cfg.select("train.lrr")
    with pytest.raises(InvalidArgument, match=r"No key 'zzz' in the configuration\.$"):
        cfg.select("zzz")
    assert yaml.safe_load(cfg.to_yaml()) == cfg.data
    assert list(yaml.safe_load(cfg.to_yaml())) == list(cfg.data)  # order kept
    copied = cfg.to_dict()
    copied["train"]["lr"] = 99
    assert cfg.select("train.lr") == 0.1
    assert cfg.flat()["train.lr"] == "0.1"
    assert cfg.flat()["tags"] == '["a","b"]'


def test_config_is_usable_directly() -> None:
    cfg = Config({"a": {"b": 1}}, {}, ())
    assert dict(cfg) == {"a": {"b": 1}} and cfg.get("zz") is None
    assert cfg.select("a.b") == 1


def test_flatten_forms() -> None:
    data = {
        "a": {"b": {"c": 1}, "empty": {}},
        "lr": 0.01,
        "big": 1e-7,
        "on": True,
        "off": False,
        "none": None,
        "name": "rf",
        "l": [1, "x", {"k": None}],
        "n": 10,
    }
    assert flatten(data) == {
        "a.b.c": "1",
        "a.empty": "{}",
        "lr": "0.01",
        "big": "1e-07",
        "on": "true",
        "off": "false",
        "none": "null",
        "name": "rf",
        "l": '[1,"x",{"k":null}]',
        "n": "10",
    }
    assert flatten({"x": 1}, prefix="params") == {"params.x": "1"}


def test_mandatory_group_must_be_chosen(tmp_path: Path) -> None:
    root = write(
        tmp_path, {"config.yaml": "defaults:\n  - db: ???\n", "db/pg.yaml": "port: 5432\n"}
    )
    with pytest.raises(InvalidArgument, match=r"Group 'db' needs an option: add db=<option>.*pg"):
        compose(root)
    assert compose(root, overrides=["db=pg"])["db"] == {"port": 5432}


def test_default_replaced_on_command_line_is_never_loaded(tmp_path: Path) -> None:
    root = write(tmp_path, {"config.yaml": "defaults: [{db: broken}]\n", "db/pg.yaml": "port: 1\n"})
    write(root, {"db/broken.yaml": "port: [\n"})
    with pytest.raises(InvalidArgument, match=r"Invalid YAML in db/broken.yaml"):
        compose(root)
    assert compose(root, overrides=["db=pg"]).sources == ("db/pg.yaml", "config.yaml")


def test_override_entry_without_a_group_is_refused(tmp_path: Path) -> None:
    root = write(tmp_path, {"config.yaml": "defaults:\n  - override db: pg\n", "db/pg.yaml": ""})
    with pytest.raises(InvalidArgument, match=r"'override db: ...' in a defaults list matches no"):
        compose(root)
