"""``loopml gc`` keeps every registered dataset version's content, and only that."""

from __future__ import annotations

from pathlib import Path

from datasets_support import write_csv, write_tree

from loopml.core.settings import Settings
from loopml.datasets import Datasets
from loopml.tracking import Client


def test_gc_keeps_registered_content(store_uri: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", gc_grace_seconds=0)
    client = Client(store_uri, settings=settings, object_store_uri=str(tmp_path / "objects"))
    try:
        datasets = Datasets(client)
        table = datasets.register("iris", write_csv(tmp_path / "iris.csv"))
        folder = datasets.register("images", write_tree(tmp_path / "img", {"a": b"a", "b": b"b"}))
        stray = client.objects.put_bytes(b"nobody refers to this")
        summary = client.gc()
        assert summary.deleted_objects == 1 and not client.objects.exists(stray)
        assert client.objects.exists(table.content_id)
        tree = client.objects.get_tree(folder.content_id)
        assert all(client.objects.exists(entry.id) for entry in tree.values())
    finally:
        client.close()
