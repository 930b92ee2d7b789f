"""``@lm.configured``: a Hydra-style entry point whose configuration every run records.

::

    @lm.configured("conf")                 # conf/config.yaml, conf/model/rf.yaml, ...
    def train(cfg):
        lm.log_metric("rmse", fit(cfg.select("train.lr"), cfg["model"]))

    if __name__ == "__main__":
        train()

    # python train.py train.lr=0.01 model=xgb           one run
    # python train.py -m train.lr=0.01,0.1 model=rf,xgb  a parent run and 4 child runs

Each run logs the resolved configuration as params (flattened keys) and as
the artifact ``config/config.yaml``, and tags the overrides it was given, so
``loopml reproduce`` re-runs the same command and gets the same configuration.
A bad override or config file stops the program with one clear line (exit
2) before any run starts.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, TypeVar

from loopml.configuration import Config, compose, expand_sweep
from loopml.core.errors import LoopmlError
from loopml.store import Param, RunTag
from loopml.tracking import Client, active_run, get_client, start_run

T = TypeVar("T")
MULTIRUN_FLAGS = ("-m", "--multirun")
CONFIG_ARTIFACT = "config/config.yaml"


def _folder(config_dir: str, fn: Callable[..., Any]) -> Path:
    """Relative to the file that defines ``fn``, as Hydra resolves ``config_path``."""
    folder = Path(config_dir)
    if folder.is_absolute():
        return folder
    try:
        return Path(inspect.getfile(fn)).resolve().parent / folder
    except (TypeError, OSError):
        return Path.cwd() / folder


def record_config(
    client: Client,
    run_id: str,
    cfg: Config,
    overrides: Sequence[str],
    config_name: str,
    *,
    skip_params: Collection[str] = (),
) -> None:
    """Log a resolved configuration on a run: flattened params, tags, ``config/config.yaml``."""
    tags = {
        "loopml.config.name": config_name,
        "loopml.config.overrides": json.dumps(list(overrides)),
        **{f"loopml.config.choice.{group}": option for group, option in cfg.choices.items()},
    }
    params = [Param(k, v) for k, v in cfg.flat().items() if k not in skip_params]
    client.log_batch(run_id, params=params, tags=[RunTag(k, v) for k, v in tags.items()])
    client.log_text(run_id, cfg.to_yaml(), CONFIG_ARTIFACT)


def _record(cfg: Config, overrides: Sequence[str], config_name: str) -> None:
    run = active_run()
    assert run is not None  # called inside start_run
    record_config(get_client(), run.info.run_id, cfg, overrides, config_name)


def configured(
    config_dir: str = "conf",
    config_name: str = "config",
    *,
    experiment: str | None = None,
) -> Callable[[Callable[[Config], T]], Callable[..., Any]]:
    """Wrap ``fn(cfg)`` as a program entry point taking overrides from the command line.

    The wrapped function takes an optional list of overrides (default:
    ``sys.argv[1:]``); with ``-m``/``--multirun`` each combination of the
    comma-separated values runs as a child run of one parent run, and the
    results come back as a list.
    """

    def wrap(fn: Callable[[Config], T]) -> Callable[..., Any]:
        folder = _folder(config_dir, fn)

        @functools.wraps(fn)
        def main(overrides: Sequence[str] | None = None) -> Any:
            from_command_line = overrides is None
            args = list(sys.argv[1:] if overrides is None else overrides)
            multirun = any(a in MULTIRUN_FLAGS for a in args)
            args = [a for a in args if a not in MULTIRUN_FLAGS]
            try:
                combos = expand_sweep(args) if multirun else [args]
                configs = [compose(folder, config_name, combo) for combo in combos]
            except LoopmlError as exc:
                if not from_command_line:
                    raise
                print(f"Error: {exc.message}", file=sys.stderr)
                raise SystemExit(2) from None
            if not multirun:
                with start_run(experiment=experiment):
                    _record(configs[0], args, config_name)
                    return fn(configs[0])
            results = []
            with start_run(experiment=experiment, tags={"loopml.sweep": json.dumps(args)}):
                for cfg, combo in zip(configs, combos, strict=True):
                    with start_run(nested=True, run_name=" ".join(combo) or None):
                        _record(cfg, combo, config_name)
                        results.append(fn(cfg))
            return results

        return main

    return wrap
