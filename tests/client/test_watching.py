"""Watch: the event stream, ERROR events, and stopping a blocked watch."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from kubeviz.client import CONFIGMAPS, APIStatusError, Client, EventType, Expired, Watch, watch
from tests.client.fakes import ScriptedAPI, bookmark, cm, event, eventually, expired
from tests.conftest import LiveCluster


def test_events_are_read_line_by_line_and_a_410_error_raises_expired() -> None:
    api = ScriptedAPI(watches=[[event("ADDED", cm("a", 3)), bookmark(4), expired(4)]])
    seen = []
    with (
        pytest.raises(Expired) as err,
        watch(api.client(), CONFIGMAPS, namespace="default", resource_version="2") as w,
    ):
        for ev in w:
            seen.append((ev.type, ev.resource_version))
    assert seen == [(EventType.ADDED, "3"), (EventType.BOOKMARK, "4")]
    assert err.value.is_expired() and err.value.code == 410
    params = dict(api.requests[0].url.params)
    assert params == {
        "watch": "true",
        "resourceVersion": "2",
        "allowWatchBookmarks": "true",
        "timeoutSeconds": "300",
    }


def test_other_error_events_raise_api_status_error() -> None:
    status = {"kind": "Status", "code": 500, "reason": "InternalError", "message": "boom"}
    api = ScriptedAPI(watches=[[event("ERROR", status)]])
    with pytest.raises(APIStatusError) as err, watch(api.client(), CONFIGMAPS, resource_version="2") as w:
        list(w)
    assert not isinstance(err.value, Expired) and err.value.reason == "InternalError"


def test_a_refused_watch_raises_from_the_call() -> None:
    body = {"kind": "Status", "code": 400, "reason": "BadRequest", "message": "bad selector"}
    api = ScriptedAPI(watches=[httpx.Response(400, json=body)])
    with pytest.raises(APIStatusError) as err:
        watch(api.client(), CONFIGMAPS, resource_version="1", label_selector="a in (")
    assert err.value.code == 400


@pytest.mark.live
def test_a_live_watch_streams_changes_and_stops_promptly_from_another_thread(cluster: LiveCluster) -> None:
    with Client(cluster.server, component="kubeviz-tests") as client:
        rv = client.list(CONFIGMAPS, namespace="default").resource_version
        seen: list[tuple[str, str]] = []
        opened: list[Watch] = []

        def read() -> None:
            # Opening returns once the apiserver answers, which may be with the first event.
            with watch(client, CONFIGMAPS, namespace="default", resource_version=rv, timeout_seconds=60) as w:
                opened.append(w)
                for ev in w:
                    seen.append((ev.type, ev.object["metadata"].get("name", "")))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        made = client.create(CONFIGMAPS, {"metadata": {"name": "w1"}}, namespace="default")
        client.update(CONFIGMAPS, dict(made, data={"k": "v"}))
        client.delete(CONFIGMAPS, "w1", namespace="default")
        eventually(lambda: len([s for s in seen if s[0] != "BOOKMARK"]) >= 3, what="three events")
        started = time.monotonic()
        opened[0].stop()  # the reader is blocked waiting for the next line
        reader.join(3)
        assert not reader.is_alive() and time.monotonic() - started < 1.0
        assert opened[0].stopped
    assert [s for s in seen if s[0] != "BOOKMARK"] == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]
