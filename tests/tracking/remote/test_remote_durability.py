"""Remote logging survives a server outage and a killed client, and stores each point once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from loopml.core.errors import BackgroundFlushError
from loopml.core.settings import Settings
from loopml.store import Metric, Param
from loopml.tracking import Client, _batcher, replay_spools
from loopml.tracking._spool import Spool, read_spool, seal, spool_directory, spool_files
from server.live_server import LOOPML, LiveServer

HERE = Path(__file__).parent


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _steps(client: Client, run_id: str, key: str = "m") -> list[int]:
    return [m.step for m in client.get_metric_history(run_id, key)]


def _spooled_items(home: Path, url: str) -> int:
    return sum(read_spool(p).items for p in spool_files(spool_directory(home, url)))


def test_server_stopped_mid_run_loses_nothing(own_server: LiveServer, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", flush_interval_seconds=0.05)
    client = Client(own_server.url, settings=settings)
    run_id = client.create_run("0").info.run_id
    for step in range(300):
        client.log_metric(run_id, "m", float(step), step=step, synchronous=False)
    client.flush()
    own_server.stop()
    for step in range(300, 600):  # the server is down: the calls still return at once
        client.log_metric(run_id, "m", float(step), step=step, synchronous=False)
    client.log_param(run_id, "during_outage", "yes", synchronous=False)
    _wait_for(lambda: _spooled_items(settings.home, own_server.url) == 301)
    own_server.start()
    for step in range(600, 900):
        client.log_metric(run_id, "m", float(step), step=step, synchronous=False)
    client.set_terminated(run_id)  # flushes: waits for the server, then delivers
    assert _steps(client, run_id) == list(range(900))
    assert client.get_run(run_id).data.params == {"during_outage": "yes"}
    client.close()
    assert spool_files(settings.home / "spool") == []  # all acknowledged: the file is gone


def test_flush_gives_up_after_the_delivery_timeout(own_server: LiveServer, tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home", flush_interval_seconds=0.05, delivery_timeout_seconds=1.0
    )
    client = Client(own_server.url, settings=settings)
    run_id = client.create_run("0").info.run_id
    own_server.stop()
    client.log_metric(run_id, "m", 1.0, synchronous=False)
    started = time.monotonic()
    with pytest.raises(BackgroundFlushError, match="loopml sync"):
        client.flush()
    assert time.monotonic() - started < 10
    client.log_metric(run_id, "m", 2.0, step=1, synchronous=False)  # logging goes on
    own_server.start()
    client.flush()
    assert _steps(client, run_id) == [0, 1]


def _client_process(url: str, home: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), LOOPML_FLUSH_INTERVAL_SECONDS="0.05")
    return subprocess.Popen(
        [sys.executable, str(HERE / "spool_client.py"), url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _ask(process: subprocess.Popen[str], command: str) -> str:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(command + "\n")
    process.stdin.flush()
    return process.stdout.readline().strip()


@pytest.mark.parametrize("replay_by", ["loopml sync", "next process"])
def test_killed_client_is_replayed_once(
    own_server: LiveServer, tmp_path: Path, replay_by: str
) -> None:
    home = tmp_path / "home"
    process = _client_process(own_server.url, home)
    try:
        run_id = _ask(process, "start")
        assert _ask(process, "log 0 400") == "logged"
        assert _ask(process, "flush") == "flushed"
        own_server.stop()
        assert _ask(process, "log 400 1000") == "logged"  # returned while the server is down
        _wait_for(lambda: _spooled_items(home, own_server.url) == 600)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    own_server.start()
    env = {**own_server.env, "LOOPML_HOME": str(home)}
    if replay_by == "loopml sync":
        done = subprocess.run(
            [LOOPML, "sync"], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "(600 items) from 1 spool files" in done.stdout
    else:
        code = f"import loopml; loopml.Client({own_server.url!r}).close()"
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    checker = Client(own_server.url, settings=Settings(home=tmp_path / "other"))
    assert _steps(checker, run_id) == list(range(1000))
    assert spool_files(home / "spool") == []
    # A second replay finds nothing left: still exactly once.
    assert replay_spools(Settings(home=home)).batches == 0
    assert _steps(checker, run_id) == list(range(1000))


def test_a_batch_stored_but_not_acknowledged_is_stored_once(
    module_server: LiveServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    client = Client(module_server.url, settings=Settings(home=home))
    run_id = client.create_run("0").info.run_id
    spool = Spool(spool_directory(home, module_server.url), module_server.url)
    sent = seal(run_id, [Metric("m", float(s), 1, s) for s in range(50)], [], [])
    unsent = seal(run_id, [Metric("m", float(s), 1, s) for s in range(50, 80)], [], [])
    spool.append(sent)
    spool.append(unsent)
    client.store.log_batch(run_id, sent.metrics, batch_id=sent.batch_id)
    # The process "dies" here: stored, but never acknowledged in the spool.
    assert replay_spools(Settings(home=home)).files == 0  # a live process's file is left alone
    spool.close()  # the lock goes with the process; the unacknowledged batches stay
    report = replay_spools(Settings(home=home), module_server.url)
    assert (report.batches, report.items) == (2, 80)
    assert _steps(client, run_id) == list(range(80))


def test_a_torn_last_line_is_skipped(module_server: LiveServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    client = Client(module_server.url, settings=Settings(home=home))
    run_id = client.create_run("0").info.run_id
    spool = Spool(spool_directory(home, module_server.url), module_server.url)
    spool.append(seal(run_id, [Metric("m", 1.0, 1, 0)], [], []))
    spool.close()
    assert spool.path is not None
    with open(spool.path, "ab") as out:
        out.write(b'{"id":"torn","run":"' + run_id.encode() + b'","m":[["m",2.0,1')
    report = replay_spools(Settings(home=home), module_server.url)
    assert report.batches == 1
    assert _steps(client, run_id) == [0]


def test_rejected_batches_are_reported_and_dropped(
    module_server: LiveServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    client = Client(module_server.url, settings=Settings(home=home))
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "lr", "0.1")
    spool = Spool(spool_directory(home, module_server.url), module_server.url)
    spool.append(seal(run_id, [Metric("m", 1.0, 1, 0)], [Param("lr", "0.2")], []))
    spool.close()
    report = replay_spools(Settings(home=home), module_server.url)
    assert report.batches == 1 and len(report.rejected) == 1
    assert "Changing param values" in report.rejected[0]
    assert _steps(client, run_id) == [0]  # the good part of the batch is kept
    assert spool_files(home / "spool") == []


def test_spool_is_cut_back_when_all_is_acknowledged(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", "http://example.invalid")
    first = seal("r" * 32, [Metric("m", 1.0, 1, 0)], [], [])
    second = seal("r" * 32, [], [Param("p", "1")], [])
    spool.append(first)
    spool.append(second)
    assert spool.path is not None
    header = spool.path.read_bytes().split(b"\n")[0] + b"\n"
    spool.ack(first.batch_id)
    assert [b.batch_id for b in read_spool(spool.path).batches] == [second.batch_id]
    spool.ack(second.batch_id)
    assert spool.path.read_bytes() == header  # compacted
    spool.close()
    assert not spool.path.exists()  # a clean end leaves nothing behind


def test_backoff_doubles_up_to_its_cap() -> None:
    delays = [_batcher.backoff_delay(n) for n in range(1, 10)]
    assert 0.2 <= delays[0] <= 0.3
    assert all(d <= _batcher.BACKOFF_MAX_SECONDS * 1.2 for d in delays)
    assert delays[-1] >= _batcher.BACKOFF_MAX_SECONDS * 0.8
