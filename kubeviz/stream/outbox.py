"""What waits to be sent to one browser, bounded however slowly it reads.

Two sorts of message go through an outbox:

* **state**: a watch event of one object, keyed by (group, resource, namespace, name).
  State is never dropped, since the canvas would be wrong without it.  Once the box holds
  ``limit`` messages, a new event of an object that is already waiting replaces the waiting
  one: the browser skips intermediate states, but ends up with the same objects.  The
  replacement moves to the back, so messages still leave in revision order and a reconnect
  from the last revision the browser saw misses nothing.  Beyond ``limit``, memory grows
  with the number of distinct objects, never with the number of events.
* **passing**: request traces, node actions, scheduling decisions.  Over ``limit`` they are
  dropped and counted.

``take`` hands out messages in order; when anything was coalesced or dropped since the last
``take``, the first message handed out says how many, so the browser can say so too.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Hashable
from typing import Any

Message = dict[str, Any]


class Outbox:
    def __init__(self, limit: int = 2000) -> None:
        self.limit = limit
        self._items: OrderedDict[int, Message] = OrderedDict()
        self._by_key: dict[Hashable, int] = {}
        self._key_of: dict[int, Hashable] = {}
        self._seq = 0
        self.coalesced = 0
        self.dropped: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._items)

    def _append(self, message: Message, key: Hashable | None) -> None:
        self._seq += 1
        self._items[self._seq] = message
        if key is not None:
            self._by_key[key] = self._seq
            self._key_of[self._seq] = key

    def put_state(self, key: Hashable, message: Message) -> None:
        """Queue one object's event; past the limit it replaces that object's waiting event."""
        waiting = self._by_key.get(key)
        if len(self._items) >= self.limit and waiting is not None:
            old = self._items.pop(waiting)
            del self._key_of[waiting]
            if old.get("event") == "ADDED" and message.get("event") == "MODIFIED":
                message = {**message, "event": "ADDED"}  # the browser has never seen it
            self.coalesced += 1
        self._append(message, key)

    def put_passing(self, message: Message) -> None:
        """Queue a trace or action; past the limit it is dropped and counted."""
        if len(self._items) >= self.limit:
            self.dropped[str(message.get("type", "other"))] += 1
            return
        self._append(message, None)

    def put_reset(self, message: Message) -> None:
        """Queue a snapshot: everything waiting before it is superseded by it."""
        self._items.clear()
        self._by_key.clear()
        self._key_of.clear()
        self._append(message, None)

    def take(self, count: int) -> list[Message]:
        """Remove and return up to ``count`` messages, oldest first."""
        out: list[Message] = []
        if self.coalesced or self.dropped:
            out.append({"type": "coalesced", "coalesced": self.coalesced, "dropped": dict(self.dropped)})
            self.coalesced = 0
            self.dropped.clear()
        while self._items and len(out) < count:
            seq, message = self._items.popitem(last=False)
            key = self._key_of.pop(seq, None)
            if key is not None and self._by_key.get(key) == seq:
                del self._by_key[key]
            out.append(message)
        return out
