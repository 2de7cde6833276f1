"""The lister reads the informer's cache by namespace, name and label selector."""

from __future__ import annotations

import httpx

from kubeviz.client import CONFIGMAPS, NODES, Client, Informer, Lister, labels


def unreachable(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a lister must not call the apiserver: {request.url}")


def filled(resource, items) -> Informer:  # noqa: ANN001
    client = Client(
        "http://kubeviz.test/k8s/demo", component="tests", transport=httpx.MockTransport(unreachable)
    )
    informer = Informer(client, resource)
    informer.replace(items, "10")
    return informer


def obj(name: str, namespace: str = "", **labels_: str) -> dict:
    meta = {"name": name, "resourceVersion": "1", "labels": labels_}
    if namespace:
        meta["namespace"] = namespace
    return {"metadata": meta}


def test_get_and_list_by_namespace_and_selector() -> None:
    lister = Lister(
        filled(
            CONFIGMAPS,
            [
                obj("web-1", "a", app="web", tier="front"),
                obj("web-2", "b", app="web"),
                obj("db-1", "a", app="db"),
            ],
        )
    )
    assert lister.get("a", "web-1")["metadata"]["labels"]["tier"] == "front"
    assert lister.get("b", "web-1") is None and lister.get_by_key("b/web-2") is not None

    def names(items: list[dict]) -> list[str]:
        return [o["metadata"]["name"] for o in items]

    assert names(lister.list()) == ["db-1", "web-1", "web-2"]
    assert names(lister.list("a")) == ["db-1", "web-1"]
    assert names(lister.list("nowhere")) == []
    assert names(lister.list(selector="app=web")) == ["web-1", "web-2"]
    assert names(lister.list("a", selector={"matchLabels": {"app": "web"}})) == ["web-1"]
    assert names(lister.list(selector=labels.parse("app in (web,db),!tier"))) == ["db-1", "web-2"]
    assert names(lister.list(selector={"matchExpressions": [{"key": "tier", "operator": "Exists"}]})) == [
        "web-1"
    ]


def test_cluster_scoped_objects_are_found_without_a_namespace() -> None:
    lister = Lister(filled(NODES, [obj("node-1", role="master"), obj("node-2")]))
    assert lister.get(None, "node-1") is not None and lister.get("", "node-2") is not None
    assert [o["metadata"]["name"] for o in lister.list(selector="role=master")] == ["node-1"]


def test_the_namespace_index_follows_deletes() -> None:
    informer = filled(CONFIGMAPS, [obj("x", "a"), obj("y", "a")])
    informer.replace([obj("y", "a")], "11")
    assert [o["metadata"]["name"] for o in Lister(informer).list("a")] == ["y"]
    informer.replace([], "12")
    assert Lister(informer).list("a") == [] and informer.store._by_namespace == {}
