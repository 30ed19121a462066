"""Bounded polls instead of bare sleeps: wait until something happens, or check that something keeps not happening."""
from __future__ import annotations

import asyncio
import time
from typing import Callable, TypeVar

T = TypeVar("T")
INTERVAL = 0.02


def until(condition: Callable[[], T], timeout: float = 15, describe: Callable[[], object] = lambda: "") -> T:
    """The condition's first true value, polled; TimeoutError past `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s {describe()}")
        time.sleep(INTERVAL)
    return result


async def until_async(condition: Callable[[], T], timeout: float = 15, describe: Callable[[], object] = lambda: "") -> T:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s {describe()}")
        await asyncio.sleep(INTERVAL)
    return result


def holds(condition: Callable[[], object], seconds: float = 0.5) -> bool:
    """Whether a condition stays true for `seconds`, polled, False as soon as it fails: how a test checks that
    something did not happen (no answer was sent, a waiting builder did not go ahead)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not condition():
            return False
        time.sleep(INTERVAL)
    return bool(condition())


async def holds_async(condition: Callable[[], object], seconds: float = 0.5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not condition():
            return False
        await asyncio.sleep(INTERVAL)
    return bool(condition())
