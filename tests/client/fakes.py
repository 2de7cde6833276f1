"""Test doubles for the client: a scripted apiserver behind ``httpx.MockTransport``.

``ScriptedAPI`` answers list requests from a queue of pages and watch requests from a queue
of scripts (lists of events, or an HTTP answer, or an exception to raise).  It records
every request, so tests can assert which resourceVersion each watch resumed from.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from kubeviz.client import Client

Obj = dict[str, Any]

BASE = "http://kubeviz.test/k8s/demo"


def cm(name: str, rv: int, *, namespace: str = "default", labels: dict[str, str] | None = None) -> Obj:
    """Return a ConfigMap as the apiserver would store it."""
    meta: Obj = {"name": name, "namespace": namespace, "resourceVersion": str(rv), "uid": f"uid-{name}"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def event(kind: str, obj: Obj) -> Obj:
    return {"type": kind, "object": obj}


def bookmark(rv: int) -> Obj:
    return event(
        "BOOKMARK", {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": str(rv)}}
    )


def expired(rv: int = 1) -> Obj:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"too old resource version: {rv} ({rv + 5})",
        "reason": "Expired",
        "code": 410,
    }
    return event("ERROR", status)


def page(items: list[Obj], rv: int, *, cont: str = "") -> Obj:
    meta: Obj = {"resourceVersion": str(rv)}
    if cont:
        meta["continue"] = cont
    return {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": meta, "items": items}


WatchScript = list[Obj] | Callable[[], Iterator[Obj]] | httpx.Response | Exception


@dataclass
class ScriptedAPI:
    """A scripted apiserver for one resource; when the watch scripts run out it sets ``done``."""

    lists: list[Obj] = field(default_factory=list)
    watches: list[WatchScript] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.params.get("watch") == "true":
            return self._watch()
        if not self.lists:
            raise AssertionError(f"unexpected list {request.url}")
        return httpx.Response(200, json=self.lists.pop(0))

    def _watch(self) -> httpx.Response:
        if not self.watches:
            self.done.set()
            return httpx.Response(200, content=b"")
        script = self.watches.pop(0)
        if isinstance(script, Exception):
            raise script
        if isinstance(script, httpx.Response):
            return script
        events = script() if callable(script) else iter(script)
        return httpx.Response(200, content=(json.dumps(e).encode() + b"\n" for e in events))

    def client(self, **kwargs: Any) -> Client:
        return Client(
            BASE, component="kube-controller-manager", transport=httpx.MockTransport(self.handle), **kwargs
        )

    def watch_versions(self) -> list[str]:
        """Return the resourceVersion every watch request asked for, in order."""
        return [r.url.params["resourceVersion"] for r in self.requests if r.url.params.get("watch") == "true"]

    def list_count(self) -> int:
        return sum(1 for r in self.requests if r.url.params.get("watch") != "true")


@dataclass
class Recorder:
    """Event handlers that record what they were called with, as (type, key, rv) triples."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _id(obj: Obj) -> tuple[str, str]:
        meta = obj["metadata"]
        key = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
        return key, str(meta.get("resourceVersion", ""))

    def on_add(self, obj: Obj) -> None:
        with self.lock:
            self.calls.append(("add", *self._id(obj)))

    def on_update(self, old: Obj, new: Obj) -> None:
        key, rv = self._id(new)
        with self.lock:
            self.calls.append(("update", key, f"{self._id(old)[1]}->{rv}"))

    def on_delete(self, obj: Obj) -> None:
        with self.lock:
            self.calls.append(("delete", *self._id(obj)))

    def handlers(self) -> dict[str, Callable[..., None]]:
        return {"on_add": self.on_add, "on_update": self.on_update, "on_delete": self.on_delete}

    def snapshot(self) -> list[tuple[str, str, str]]:
        with self.lock:
            return list(self.calls)


def eventually(predicate: Callable[[], bool], *, timeout: float = 5.0, what: str = "condition") -> None:
    """Poll ``predicate`` every few milliseconds until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
