"""Hydra-style configuration: YAML files composed from groups, command-line overrides, sweeps.

::

    from loopml.configuration import compose, expand_sweep

    # conf/config.yaml:   defaults: [{model: rf}, _self_]   train: {lr: 0.1}
    # conf/model/rf.yaml: n_estimators: 100      conf/model/xgb.yaml: max_depth: 6
    cfg = compose("conf", "config", ["model=xgb", "train.lr=0.01", "+seed=7"])
    cfg.select("train.lr")          # 0.01
    cfg.choices                     # {"model": "xgb"}
    cfg.flat()                      # {"train.lr": "0.01", "model.max_depth": "6", ...}

    for run_overrides in expand_sweep(["train.lr=0.01,0.1", "model=rf,xgb"]):
        compose("conf", overrides=run_overrides)     # 4 runs, first override slowest

Overrides follow Hydra 1.3: ``key=value`` changes an existing key, ``+key=value`` adds
one, ``++key=value`` adds or changes, ``~key`` deletes, ``group=option`` picks another
file of a group. ``${a.b}`` and ``${oc.env:NAME,default}`` interpolations are resolved
after the overrides. Every mistake raises ``InvalidArgument`` saying what to change.
"""

from loopml.configuration._compose import Config, compose, flatten
from loopml.configuration._overrides import Override, parse_override
from loopml.configuration._sweep import expand_sweep

__all__ = [
    "Config",
    "Override",
    "compose",
    "expand_sweep",
    "flatten",
    "parse_override",
]
