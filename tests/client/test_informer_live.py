"""The informer against the real apiserver: initial list, live events, selectors, resuming watches."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from kubeviz.client import CONFIGMAPS, Client, Informer, Lister
from tests.client.fakes import Recorder, eventually
from tests.conftest import LiveCluster

pytestmark = pytest.mark.live


class CountingTransport(httpx.BaseTransport):
    """Real HTTP, recording the resourceVersion of each watch and counting lists."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.watches: list[str] = []
        self.lists = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("watch") == "true":
            self.watches.append(request.url.params["resourceVersion"])
        elif request.method == "GET":
            self.lists += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def kube(cluster: LiveCluster) -> Iterator[Client]:
    with Client(cluster.server, component="kubeviz-tests") as client:
        yield client


def cm(name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "data": {}}


def test_the_list_fills_the_cache_then_events_arrive_in_order(kube: Client, cluster: LiveCluster) -> None:
    kube.create(CONFIGMAPS, cm("pre"), namespace="default")
    rec = Recorder()
    with Client(cluster.server, component="kube-controller-manager", name="test-informer") as own:
        informer = Informer(own, CONFIGMAPS, namespace="default", **rec.handlers())
        informer.start()
        try:
            assert informer.wait_for_sync(5) and informer.has_synced()
            assert rec.snapshot() == [("add", "default/pre", rec.snapshot()[0][2])]
            assert Lister(informer).get("default", "pre") is not None
            made = kube.create(CONFIGMAPS, cm("x"), namespace="default")
            changed = kube.update(CONFIGMAPS, dict(made, data={"k": "v"}))
            kube.delete(CONFIGMAPS, "x", namespace="default")
            eventually(lambda: len(rec.snapshot()) >= 4, what="the delete")
            rv1, rv2 = made["metadata"]["resourceVersion"], changed["metadata"]["resourceVersion"]
            assert rec.snapshot()[1:] == [
                ("add", "default/x", rv1),
                ("update", "default/x", f"{rv1}->{rv2}"),
                ("delete", "default/x", rec.snapshot()[3][2]),
            ]
            assert int(rec.snapshot()[3][2]) > int(rv2)
            assert informer.keys() == ["default/pre"]
            assert int(informer.last_resource_version) >= int(rec.snapshot()[3][2])
        finally:
            informer.stop(timeout=3)
        assert not informer._thread.is_alive(), "stop() ends a watch that is waiting for events"


def test_a_selector_informer_sees_objects_leave_when_their_labels_change(kube: Client) -> None:
    rec = Recorder()
    informer = Informer(kube, CONFIGMAPS, namespace="default", label_selector="on=yes", **rec.handlers())
    informer.start()
    try:
        assert informer.wait_for_sync(5)
        kube.create(CONFIGMAPS, cm("m", on="no"), namespace="default")
        kube.patch(CONFIGMAPS, "m", {"metadata": {"labels": {"on": "yes"}}}, namespace="default")
        kube.patch(CONFIGMAPS, "m", {"data": {"x": "1"}}, namespace="default")
        kube.patch(CONFIGMAPS, "m", {"metadata": {"labels": {"on": "no"}}}, namespace="default")
        eventually(lambda: len(rec.snapshot()) >= 3, what="three events")
        assert [c[0] for c in rec.snapshot()] == ["add", "update", "delete"]
        assert informer.keys() == []
    finally:
        informer.stop(timeout=3)


def test_the_watch_resumes_from_the_last_revision_after_the_server_ends_it(cluster: LiveCluster) -> None:
    transport = CountingTransport()
    rec = Recorder()
    with Client(cluster.server, component="kubeviz-tests", transport=transport) as kube:
        kube.create(CONFIGMAPS, cm("a1"), namespace="default")
        informer = Informer(kube, CONFIGMAPS, namespace="default", watch_timeout=1, **rec.handlers())
        informer.start()
        try:
            assert informer.wait_for_sync(5)
            lists_after_sync = transport.lists
            b1 = kube.create(CONFIGMAPS, cm("b1"), namespace="default")
            eventually(lambda: len(rec.snapshot()) == 2, what="b1 added")
            # Let the server end at least two one-second watches.
            eventually(lambda: len(transport.watches) >= 3, timeout=6, what="two re-watches")
            kube.create(CONFIGMAPS, cm("c1"), namespace="default")
            b1 = kube.update(CONFIGMAPS, dict(b1, data={"k": "v"}))
            eventually(lambda: len(rec.snapshot()) >= 4, what="c1 and the b1 update")
        finally:
            informer.stop(timeout=3)
    assert [(c[0], c[1]) for c in rec.snapshot()] == [
        ("add", "default/a1"),
        ("add", "default/b1"),
        ("add", "default/c1"),
        ("update", "default/b1"),
    ], "nothing is delivered twice across re-watches"
    assert transport.lists == lists_after_sync, "a re-watch is not a relist"
    versions = [int(v) for v in transport.watches]
    assert versions == sorted(versions) and versions[-1] > versions[0]
