"""``loopml serve`` refuses what can never serve, before it starts listening."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopml.cli import app
from loopml.core.errors import InvalidArgument
from loopml.serving import ServeConfig


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "exactly one"),
        (["models:/iris/1", "--deployment", "prod"], "exactly one"),
        (["models:/", "--port", "1"], "Invalid model URI"),
        (["runs:/nothex/model"], "run id"),
        (["/no/such/folder"], "neither a model URI"),
        (["https://example.com/model"], "neither a model URI"),
        (["models:/iris/1", "--max-body-mb", "0"], "--max-body-mb"),
    ],
)
def test_bad_arguments_fail_with_a_message(args: list[str], needle: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", *args], env={"LOOPML_HOME": str(tmp_path)})
    assert result.exit_code == 1, result.output
    assert needle in result.output


def test_option_ranges_are_checked_by_the_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "models:/iris/1", "--log-sample-rate", "2"])
    assert result.exit_code == 2


def test_config_travels_to_workers_as_json() -> None:
    config = ServeConfig(deployment="prod", max_batch_size=8, log_sample_rate=0.25, onnx=False)
    assert ServeConfig.from_json(config.to_json()) == config
    with pytest.raises(InvalidArgument, match="unknown fields"):
        ServeConfig.from_json('{"deployment": "prod", "bogus": 1}')
    with pytest.raises(InvalidArgument, match="max-batch-size"):
        ServeConfig(model_uri="models:/x/1", max_batch_size=0)


def test_the_public_names_exist() -> None:
    import loopml.serving as serving

    assert sorted(serving.__all__) == sorted(set(serving.__all__))
    for name in serving.__all__:
        assert hasattr(serving, name), name
    assert {"ServeConfig", "create_serving_app", "app_from_environment"} <= set(serving.__all__)
