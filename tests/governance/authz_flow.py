"""A pipeline for the authorization tests' policies (target ``authz_flow:training``); never run."""

from __future__ import annotations

import loopml as lm


@lm.step
def train(weak: bool) -> int:
    return int(weak)


@lm.pipeline
def training(weak: bool = False) -> int:
    return train(weak)
