"""The collector tuning the server applies once started (``soleil_ui.runtime.tune_collector``) and the memory it
hands back after a burst (``release_memory``)."""

from __future__ import annotations

import gc
import platform

from soleil_ui import runtime


def test_tune_collector_freezes_the_start_up_heap_and_keeps_pythons_thresholds() -> None:
    before = gc.get_threshold()
    survivor: list[list[str]] = [["alive at start-up"]]
    try:
        runtime.tune_collector()
        assert gc.get_threshold() == before  # raised thresholds let a page's cycles pile up into a 10 s pause
        assert gc.get_freeze_count() > 0
        assert all(o is not survivor for o in gc.get_objects())  # frozen: no collection walks it any more
    finally:
        gc.unfreeze()
    assert any(o is survivor for o in gc.get_objects())


def test_freed_memory_goes_back_to_the_system_where_glibc_allows() -> None:
    garbage = [bytearray(64 * 1024) for _ in range(200)]  # a burst's worth of heap, then freed
    del garbage
    released = runtime.release_memory()
    assert released is (platform.libc_ver()[0] == "glibc")  # glibc gave pages back; elsewhere a no-op
