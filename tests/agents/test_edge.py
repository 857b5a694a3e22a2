"""The Faust edge is guarded: the installed Faust, mode and aiokafka have the shapes the patches
expect, a changed shape is named before a worker starts, and Faust's debug pages are off."""

from __future__ import annotations

from pathlib import Path

import pytest
from faust.transport.consumer import Consumer

from agents.edge import EdgeChanged, check, problems
from agents.worker import faust_app
from streams.settings import WorkerSettings


def test_the_installed_internals_are_as_the_patches_expect() -> None:
    assert problems() == []


def test_a_gap_handler_that_is_no_longer_a_coroutine_stops_the_worker_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def sync_add_gap(self: object, tp: object, offset_from: int, offset_to: int) -> None: ...

    monkeypatch.setattr(Consumer, "_add_gap", sync_add_gap)
    with pytest.raises(EdgeChanged, match=r"faust Consumer._add_gap is expected to be a coroutine"):
        check()


def test_a_patched_method_with_another_signature_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    async def perform_seek(self: object, partitions: object) -> None: ...

    monkeypatch.setattr(Consumer, "perform_seek", perform_seek)
    assert problems() == [
        "faust Consumer.perform_seek takes ['self', 'partitions'], the patch expects ['self']"
    ]


def test_fausts_router_and_table_pages_are_off(tmp_path: Path) -> None:
    app = faust_app(WorkerSettings(data_dir=tmp_path, app_id="t-edge"))
    assert not app.conf.web_router_enabled and not app.conf.web_tables_enabled
