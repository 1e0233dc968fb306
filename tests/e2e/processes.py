"""Which processes a server left behind, read from /proc (no psutil): for stopping servers without orphans."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, process group) of a live process, or None once it is gone (or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    if fields[0] == "Z":
        return None
    return int(fields[1]), int(fields[2])


def _all() -> dict[int, tuple[int, int]]:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            table[int(entry)] = stat
    return table


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children, …)."""
    table, found, frontier = _all(), set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def group(pgid: int) -> set[int]:
    """Every live process of the process group ``pgid``, re-parented to init or not."""
    return {pid for pid, (_, group_id) in _all().items() if group_id == pgid}


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if _stat(pid) is not None}


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not (met := condition()) and time.monotonic() < deadline:
        time.sleep(0.1)  # processes have no event to await from outside; a bounded deadline
    return met


def describe(pids: set[int]) -> str:
    """Each pid with its command line, for an assertion message."""
    lines = []
    for pid in sorted(pids):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            command = "(gone)"
        lines.append(f"{pid}: {command.strip()[:160]}")
    return "; ".join(lines)


def wait_gone(pids: set[int], timeout: float) -> set[int]:
    """Wait (bounded) until none of ``pids`` lives; returns those still alive."""
    deadline = time.monotonic() + timeout
    while (left := alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)  # processes have no event to await from outside; a bounded deadline
    return left


def stop_then_kill(process: subprocess.Popen[bytes], marker: str, timeout: float = 60.0) -> set[int]:
    """SIGTERM the server and wait for it to shut down gracefully (it ends its own workers); then SIGKILL whatever
    of its processes is still there (its tree, and every process sharing its environment variable ``marker``), so
    nothing outlives the test run. Returns the pids that had to be killed."""
    value = _environ(process.pid).get(marker)
    tree = descendants(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if value is not None:
        tree |= {pid for pid in _all() if _environ(pid).get(marker) == value}
    left = wait_gone(tree, 5.0)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left
