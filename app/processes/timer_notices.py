"""Tells a scheduler in this process that a save has just created a timer, so it can wake earlier.

Other processes hear of it through the database (PostgreSQL NOTIFY, SQLite's data_version); see
app/jobs/scheduler.py. Listeners run after the commit, on the saving thread, and must be quick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

log = logging.getLogger(__name__)
_listeners: list[Callable[[datetime], None]] = []
_lock = threading.Lock()

CHANNEL = "collabflow_timers"  # the PostgreSQL NOTIFY channel the store writes to


def subscribe(listener: Callable[[datetime], None]) -> None:
    with _lock:
        _listeners.append(listener)


def unsubscribe(listener: Callable[[datetime], None]) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def publish(due_at: datetime) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(due_at)
        except Exception:  # a scheduler's problem must never fail the user's action
            log.exception("timer listener failed")
