"""The collector tuning the server applies once started (``soleil_ui.runtime.tune_collector``)."""

from __future__ import annotations

import gc

from soleil_ui import runtime


def test_tune_collector_freezes_the_start_up_heap_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()
    survivor: list[list[str]] = [["alive at start-up"]]
    try:
        runtime.tune_collector()
        assert gc.get_threshold() == runtime.GC_THRESHOLD
        assert gc.get_freeze_count() > 0
        assert all(o is not survivor for o in gc.get_objects())  # frozen: no collection walks it any more
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    assert any(o is survivor for o in gc.get_objects())
