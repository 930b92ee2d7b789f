"""Shared helpers of the serving tests: tiny models, a store, a live ``loopml serve``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import loopml as lm
from loopml.core.settings import Settings
from loopml.tracking import Client

LOOPML = str(Path(sys.executable).with_name("loopml"))
FEATURES = ["a", "b", "c", "d"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def features(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.RandomState(seed)
    return pd.DataFrame(rng.randn(n, len(FEATURES)), columns=FEATURES)


def classifier(flip: bool = False) -> object:
    """A scaler + logistic regression pipeline; ``flip`` learns the opposite labels."""
    X = features()
    y = ((X.a + X.b > 0) ^ flip).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


def cancelling_regressor() -> tuple[object, pd.DataFrame]:
    """A regression whose answer is a small difference of huge terms: float32 cannot keep it."""
    rng = np.random.RandomState(1)
    base = 1000.0 + rng.rand(30)
    X = pd.DataFrame({"x": base, "y": base + rng.rand(30) * 1e-3})
    target = (X.y - X.x) * 1e6
    return LinearRegression().fit(X, target), X


def make_client(root: Path) -> Client:
    root.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=root / "home", flush_interval_seconds=0.2)
    return Client(
        f"sqlite:///{root / 'loopml.db'}", settings=settings, object_store_uri=str(root / "objects")
    )


def register(client: Client, name: str, model: object, example: pd.DataFrame) -> int:
    info = lm.log_model(
        model, "model", input_example=example, registered_model_name=name, client=client
    )
    assert info.registered_model_version is not None
    return int(info.registered_model_version)


@dataclass
class LiveServe:
    """A running ``loopml serve``: its URL and process."""

    url: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def live_serve(
    root: Path, args: list[str], port: int, timeout: float = 60.0
) -> Iterator[LiveServe]:
    """``loopml serve ARGS`` over the store in ``root``, started and ready; stopped on exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOPML_", "MLFLOW_"))}
    env["LOOPML_HOME"] = str(root / "home")
    env["LOOPML_TRACKING_URI"] = f"sqlite:///{root / 'loopml.db'}"
    env["LOOPML_OBJECT_STORE_URI"] = str(root / "objects")
    log = root / f"serve-{port}.log"
    command = [LOOPML, "serve", *args, "--port", str(port), "--reload-interval", "0.3"]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    server = LiveServe(f"http://127.0.0.1:{port}", port, log, process)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"loopml serve exited: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{server.url}/v2/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"loopml serve did not start: {log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield server
    finally:
        server.stop()


class Shift(StandardScaler):
    """A transformer of this test package: skops does not trust it, so loading refuses it."""


def untrusted_classifier() -> object:
    X = features()
    return make_pipeline(Shift(), LogisticRegression()).fit(X, (X.a > 0).astype(int))
