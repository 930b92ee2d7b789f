"""``loopml features check``: online values against the offline latest ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings
from loopml.features._check import DIFFERENT, MISSING, NEWER, OLDER, check
from loopml.features._definitions import Entity, FeatureView, Field, FileSource
from loopml.features._materialize import materialize
from loopml.features._online_sqlite import SqliteOnlineStore
from loopml.features._registry import FeatureRegistry
from loopml.tracking import Client

LOOPML = str(Path(sys.executable).with_name("loopml"))
T0 = datetime(2026, 11, 1, tzinfo=UTC)
END = T0 + timedelta(days=10)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@dataclass
class Setup:
    root: Path
    client: Client
    registry: FeatureRegistry
    online: SqliteOnlineStore
    source: Path


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    source = tmp_path / "stats.parquet"
    rows = [
        {"customer_id": k, "event_timestamp": T0 + timedelta(days=d), "spend": k * 10.0 + d}
        for k in range(1, 21)
        for d in range(3)
    ]
    pd.DataFrame(rows).to_parquet(source)
    customer = Entity("customer", ("customer_id",))
    view = FeatureView(
        "stats",
        (customer,),
        (Field("spend", "float64"),),
        FileSource(str(source), "event_timestamp"),
    )
    client = Client(f"sqlite:///{tmp_path / 'loopml.db'}", settings=Settings(home=tmp_path / "h"))
    registry = FeatureRegistry(client)
    registry.apply([customer, view])
    online = SqliteOnlineStore(tmp_path / "h" / "features_online.db")
    materialize([view], None, END, online=online, log=registry)
    yield Setup(tmp_path, client, registry, online, source)
    online.close()
    client.close()


def test_a_fresh_materialisation_agrees(setup: Setup) -> None:
    result = check("stats", registry=setup.registry, online=setup.online, sample=100)
    assert result.ok and result.mismatches == ()
    assert (result.offline_keys, result.sampled, result.until_ms) == (20, 20, _ms(END))
    partial = check("stats", registry=setup.registry, online=setup.online, sample=5, seed=1)
    assert partial.sampled == 5 and partial.ok


def test_each_kind_of_disagreement_is_reported(setup: Setup) -> None:
    latest = _ms(T0 + timedelta(days=2))
    online = setup.online
    online.write("stats", [(1,)], {"spend": [-1.0]}, [latest])  # same time, other value
    online.write("stats", [(2,)], {"spend": [0.0]}, [latest + 1])  # newer than offline
    # an offline row arrives (before the materialised end) that never reached the store
    frame = pd.read_parquet(setup.source)
    late = {"customer_id": 3, "event_timestamp": T0 + timedelta(days=5), "spend": 99.0}
    pd.concat([frame, pd.DataFrame([late])]).to_parquet(setup.source)
    kept = online.read("stats", [(k,) for k in range(5, 21)])
    online.delete_view("stats")  # customer 4 goes missing; the others come back
    online.write(
        "stats",
        [(1,), (2,), (3,)],
        {"spend": [-1.0, 0.0, 32.0]},
        [latest, latest + 1, latest],
    )
    online.write(
        "stats",
        [(k,) for k in range(5, 21)],
        {"spend": [r.values["spend"] for r in kept if r]},
        [r.event_ts_ms for r in kept if r],
    )
    result = check("stats", registry=setup.registry, online=online, sample=1000)
    found = {m.key: m for m in result.mismatches}
    assert set(found) == {(1,), (2,), (3,), (4,)}
    assert found[(1,)].kind == DIFFERENT and found[(1,)].features == {"spend": (12.0, -1.0)}
    assert found[(2,)].kind == NEWER
    assert found[(3,)].kind == OLDER and found[(3,)].offline_event_ms == _ms(
        late["event_timestamp"]
    )
    assert found[(4,)].kind == MISSING and found[(4,)].online_event_ms is None
    assert result.to_dict()["mismatches"][0]["kind"] in {DIFFERENT, NEWER, OLDER, MISSING}


def test_bad_sample_is_refused(setup: Setup) -> None:
    with pytest.raises(InvalidArgument, match="positive"):
        check("stats", registry=setup.registry, online=setup.online, sample=0)


def _cli(setup: Setup, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env["LOOPML_HOME"] = str(setup.root / "h")
    env["LOOPML_TRACKING_URI"] = f"sqlite:///{setup.root / 'loopml.db'}"
    return subprocess.run(
        [LOOPML, "features", "check", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_the_cli_reports_and_exits_non_zero_on_mismatches(setup: Setup) -> None:
    good = _cli(setup, "stats", "--json")
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["ok"] is True
    setup.online.write("stats", [(7,)], {"spend": [0.5]}, [_ms(T0 + timedelta(days=2))])
    bad = _cli(setup, "stats")
    assert bad.returncode == 1
    assert "1 mismatch(es)" in bad.stdout and "different" in bad.stdout
    assert "72.0" in bad.stdout and "0.5" in bad.stdout
    missing = _cli(setup, "nope")
    assert missing.returncode != 0 and "nope" in (missing.stdout + missing.stderr)
    assert "Traceback" not in missing.stderr
