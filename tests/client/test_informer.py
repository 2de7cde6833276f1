"""The informer against a scripted apiserver: relist on 410, paging, bookmarks, backoff, resync."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from kubeviz.client import CONFIGMAPS, NAMESPACES, Informer, cache_key, split_key
from tests.client.fakes import Recorder, ScriptedAPI, bookmark, cm, event, expired, page


def run_until_done(api: ScriptedAPI, informer: Informer, *, timeout: float = 5.0) -> None:
    """Run the informer in a thread until the scripted watches are used up, then stop it."""
    stop = informer.start()
    assert api.done.wait(timeout), "the informer did not use up its watch scripts"
    stop.set()
    informer.stop()
    assert not informer._thread.is_alive()


def test_keys_are_namespace_slash_name() -> None:
    assert cache_key(cm("a", 1, namespace="ns")) == "ns/a"
    assert cache_key({"metadata": {"name": "node-1"}}) == "node-1"
    assert split_key("ns/a") == ("ns", "a") and split_key("node-1") == ("", "node-1")
    with pytest.raises(ValueError):
        cache_key({"metadata": {}})


def test_a_410_relists_and_delivers_only_the_difference() -> None:
    api = ScriptedAPI(
        lists=[
            page([cm("a", 1), cm("b", 2), cm("c", 3)], 10),
            page([cm("a", 1), cm("b", 12), cm("d", 13)], 20),
        ],
        watches=[[expired(10)], [event("MODIFIED", cm("d", 21))]],
    )
    rec = Recorder()
    slept: list[float] = []
    informer = Informer(api.client(), CONFIGMAPS, namespace="default", sleep=slept.append, **rec.handlers())
    run_until_done(api, informer)
    assert rec.snapshot() == [
        ("add", "default/a", "1"),
        ("add", "default/b", "2"),
        ("add", "default/c", "3"),
        ("update", "default/b", "2->12"),
        ("add", "default/d", "13"),
        ("delete", "default/c", "3"),
        ("update", "default/d", "13->21"),
    ]
    assert api.list_count() == 2
    assert api.watch_versions()[:3] == ["10", "20", "21"]
    assert informer.keys() == ["default/a", "default/b", "default/d"]
    assert informer.has_synced() and informer.last_resource_version == "21"


def test_the_list_is_paged_and_the_watch_starts_at_the_first_pages_revision() -> None:
    api = ScriptedAPI(
        lists=[page([cm("a", 1), cm("b", 2)], 7, cont="tok"), page([cm("c", 3)], 7)],
        watches=[[event("ADDED", cm("e", 8))]],
    )
    rec = Recorder()
    informer = Informer(api.client(), CONFIGMAPS, page_size=2, sleep=lambda s: None, **rec.handlers())
    run_until_done(api, informer)
    lists = [r for r in api.requests if "watch" not in r.url.params]
    assert [dict(r.url.params) for r in lists] == [{"limit": "2"}, {"limit": "2", "continue": "tok"}]
    assert lists[0].url.path == "/k8s/demo/api/v1/configmaps"
    assert [c[1] for c in rec.snapshot()] == ["default/a", "default/b", "default/c", "default/e"]
    assert api.watch_versions()[0] == "7"


def test_bookmarks_advance_the_revision_without_calling_handlers() -> None:
    api = ScriptedAPI(
        lists=[page([cm("a", 1)], 5)],
        watches=[[bookmark(9), bookmark(15)], [event("DELETED", cm("a", 16))]],
    )
    rec = Recorder()
    informer = Informer(api.client(), CONFIGMAPS, sleep=lambda s: None, **rec.handlers())
    run_until_done(api, informer)
    assert api.watch_versions()[:3] == ["5", "15", "16"]
    assert rec.snapshot() == [("add", "default/a", "1"), ("delete", "default/a", "16")]
    assert informer.keys() == []


def test_failed_watches_back_off_and_resume_from_the_same_revision() -> None:
    unavailable = httpx.Response(503, json={"kind": "Status", "code": 503, "reason": "ServiceUnavailable"})
    api = ScriptedAPI(
        lists=[page([cm("a", 1)], 5)],
        watches=[
            unavailable,
            httpx.ConnectError("refused"),
            httpx.Response(400, json={"kind": "Status", "code": 400, "reason": "BadRequest"}),
            [event("MODIFIED", cm("a", 6))],
            unavailable,
        ],
    )
    rec = Recorder()
    slept: list[float] = []
    informer = Informer(api.client(), CONFIGMAPS, sleep=slept.append, clock=lambda: 100.0, **rec.handlers())
    run_until_done(api, informer)
    # 0.5, 1, 2 for three failures in a row; the event resets the count; 0.5 for the next one;
    # then the scripts are used up (an empty watch that ends at once also counts as a failure).
    assert slept[:5] == [0.5, 1.0, 2.0, 0.5, 1.0]
    assert api.watch_versions()[:5] == ["5", "5", "5", "5", "6"]
    assert api.list_count() == 1
    assert rec.snapshot() == [("add", "default/a", "1"), ("update", "default/a", "1->6")]


def test_periodic_resync_calls_update_with_the_same_object() -> None:
    now = [0.0]

    def bookmarks() -> Iterator[dict]:
        for t in (10.0, 31.0, 45.0, 62.0):
            now[0] = t
            yield bookmark(int(t))

    api = ScriptedAPI(lists=[page([cm("a", 1), cm("b", 2)], 5)], watches=[bookmarks])
    rec = Recorder()
    informer = Informer(
        api.client(),
        CONFIGMAPS,
        resync_period=30,
        clock=lambda: now[0],
        sleep=lambda s: None,
        **rec.handlers(),
    )
    run_until_done(api, informer)
    resyncs = [c for c in rec.snapshot() if c[0] == "update"]
    assert resyncs == [
        ("update", "default/a", "1->1"),
        ("update", "default/b", "2->2"),
        ("update", "default/a", "1->1"),
        ("update", "default/b", "2->2"),
    ]


def test_a_failing_handler_does_not_stop_the_others_or_the_informer() -> None:
    api = ScriptedAPI(lists=[page([cm("a", 1), cm("b", 2)], 5)], watches=[[event("ADDED", cm("c", 6))]])
    seen: list[str] = []

    def boom(obj: dict) -> None:
        raise RuntimeError("handler bug")

    informer = Informer(api.client(), CONFIGMAPS, on_add=boom, sleep=lambda s: None)
    informer.add_handlers(on_add=lambda o: seen.append(o["metadata"]["name"]))
    run_until_done(api, informer)
    assert seen == ["a", "b", "c"]


def test_handlers_added_after_sync_are_replayed_the_cache() -> None:
    api = ScriptedAPI(lists=[page([{"metadata": {"name": "n1", "resourceVersion": "1"}}], 3)])
    informer = Informer(api.client(), NAMESPACES, sleep=lambda s: None)
    run_until_done(api, informer)
    late: list[str] = []
    informer.add_handlers(on_add=lambda o: late.append(cache_key(o)))
    assert late == ["n1"]
