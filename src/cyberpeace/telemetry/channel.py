"""A hand-off between threads that never makes the producer wait.

Work items (bursts of datagrams, batches of flows) are offered: when ``capacity`` of them are
already waiting the offer is refused at once, and the producer counts the loss. Control items
(a flush marker, the stop signal) always get in, behind the work already queued, so that a
flush sees everything that was accepted before it.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

Item = TypeVar("Item")


class Channel(Generic[Item]):
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a channel needs room for at least one item")
        self.capacity = capacity
        self._items: deque[tuple[bool, object]] = deque()
        self._work = 0  # work items waiting (control items do not count against capacity)
        self._ready = threading.Condition(threading.Lock())

    def offer(self, item: Item) -> bool:
        """Queue a work item unless the channel is full; never blocks (beyond a short lock)."""
        with self._ready:
            if self._work >= self.capacity:
                return False
            self._items.append((True, item))
            self._work += 1
            self._ready.notify()
        return True

    def control(self, item: object) -> None:
        """Queue a control item, whatever the capacity."""
        with self._ready:
            self._items.append((False, item))
            self._ready.notify()

    def take(self) -> tuple[bool, object]:
        """The next item, waiting for one: (True, work item) or (False, control item)."""
        with self._ready:
            while not self._items:
                self._ready.wait()
            is_work, item = self._items.popleft()
            if is_work:
                self._work -= 1
            return is_work, item

    def __len__(self) -> int:
        return self._work
