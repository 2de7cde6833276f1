"""The store keeps etcd's promises: revisions, compare-and-swap, history and compaction."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeviz.store import compaction, selectors, services
from kubeviz.store.keys import Compacted, Key, KeyExists, KeyNotFound, RevisionMismatch

pytestmark = pytest.mark.django_db(transaction=True)


def _key(name: str, ns: str = "default") -> Key:
    return Key("", "configmaps", ns, name)


def _body(name: str, value: str = "v", ns: str = "default") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "uid": name},
        "data": {"k": value},
    }


@pytest.fixture
def cid() -> int:
    return services.cluster_create(name="store-test", topology={}).pk


def test_create_sets_resource_version_to_the_new_revision(cid: int) -> None:
    before, _ = selectors.revision(cid)
    stored = services.create(cluster_id=cid, key=_key("a"), body=_body("a"))
    assert stored["metadata"]["resourceVersion"] == str(before + 1)
    assert selectors.revision(cid)[0] == before + 1


def test_duplicate_create_is_refused_and_writes_nothing(cid: int) -> None:
    services.create(cluster_id=cid, key=_key("a"), body=_body("a"))
    rev, _ = selectors.revision(cid)
    with pytest.raises(KeyExists):
        services.create(cluster_id=cid, key=_key("a"), body=_body("a"))
    assert selectors.revision(cid)[0] == rev
    assert len(selectors.history_after(cluster_id=cid, after=0)) == 1


def test_update_with_stale_revision_is_a_mismatch(cid: int) -> None:
    first = services.create(cluster_id=cid, key=_key("a"), body=_body("a"))
    services.update(
        cluster_id=cid,
        key=_key("a"),
        body=_body("a", "2"),
        expected_revision=int(first["metadata"]["resourceVersion"]),
    )
    with pytest.raises(RevisionMismatch):
        services.update(
            cluster_id=cid,
            key=_key("a"),
            body=_body("a", "3"),
            expected_revision=int(first["metadata"]["resourceVersion"]),
        )
    assert selectors.get(cid, _key("a"))["data"]["k"] == "2"


def test_delete_of_missing_key(cid: int) -> None:
    with pytest.raises(KeyNotFound):
        services.delete(cluster_id=cid, key=_key("nope"))


def test_clusters_do_not_see_each_other(cid: int) -> None:
    other = services.cluster_create(name="other", topology={}).pk
    services.create(cluster_id=cid, key=_key("a"), body=_body("a"))
    assert selectors.get(other, _key("a")) is None
    assert selectors.history_after(cluster_id=other, after=0) == []


OPS = st.lists(
    st.tuples(
        st.sampled_from(["create", "update", "delete"]),
        st.sampled_from(["a", "b", "c"]),
        st.text("xyz", max_size=3),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_every_acknowledged_write_is_in_every_history_replay_once_and_in_order(cid: int, ops: list) -> None:
    from kubeviz.store.models import History, Object

    Object.objects.filter(cluster_id=cid).delete()
    History.objects.filter(cluster_id=cid).delete()
    start, _ = selectors.revision(cid)
    acked: list[tuple[int, str, str]] = []
    for op, name, value in ops:
        try:
            if op == "create":
                out = services.create(cluster_id=cid, key=_key(name), body=_body(name, value))
                acked.append((int(out["metadata"]["resourceVersion"]), "ADDED", name))
            elif op == "update":
                out = services.update(cluster_id=cid, key=_key(name), body=_body(name, value))
                acked.append((int(out["metadata"]["resourceVersion"]), "MODIFIED", name))
            else:
                out = services.delete(cluster_id=cid, key=_key(name))
                acked.append((int(out["metadata"]["resourceVersion"]), "DELETED", name))
        except (KeyExists, KeyNotFound):
            pass
    revisions = [r for r, _, _ in acked]
    assert revisions == sorted(set(revisions)), "revisions must strictly increase"
    for i, since in enumerate([start] + revisions):
        replay = [(e.revision, e.type, e.name) for e in selectors.history_after(cluster_id=cid, after=since)]
        assert replay == acked[i:], f"replay from {since} must be exactly the acknowledged writes after it"


def test_compaction_expires_old_revisions_and_keeps_snapshots(cid: int) -> None:
    a1 = services.create(cluster_id=cid, key=_key("a"), body=_body("a", "1"))
    services.update(cluster_id=cid, key=_key("a"), body=_body("a", "2"))
    services.create(cluster_id=cid, key=_key("b"), body=_body("b"))
    services.delete(cluster_id=cid, key=_key("b"))
    point = compaction.compact(cluster_id=cid, window_seconds=0, now=10**12)
    assert point == selectors.revision(cid)[0]
    with pytest.raises(Compacted):
        selectors.history_after(cluster_id=cid, after=int(a1["metadata"]["resourceVersion"]))
    # The newest row of the live key survives; the deleted key is gone entirely.
    services.create(cluster_id=cid, key=_key("c"), body=_body("c"))
    now_rev, _ = selectors.revision(cid)
    names = [
        o["metadata"]["name"]
        for o in selectors.list_at(cluster_id=cid, group="", resource="configmaps", at=now_rev)
    ]
    assert names == ["a", "c"]
    assert [
        o["data"]["k"] for o in selectors.list_at(cluster_id=cid, group="", resource="configmaps", at=now_rev)
    ][0] == "2"
    with pytest.raises(Compacted):
        list(selectors.list_at(cluster_id=cid, group="", resource="configmaps", at=point - 1))


def test_list_at_reads_a_past_snapshot(cid: int) -> None:
    services.create(cluster_id=cid, key=_key("a"), body=_body("a", "1"))
    mid = int(
        services.create(cluster_id=cid, key=_key("b"), body=_body("b", "1"))["metadata"]["resourceVersion"]
    )
    services.update(cluster_id=cid, key=_key("a"), body=_body("a", "2"))
    services.delete(cluster_id=cid, key=_key("b"))
    past = list(selectors.list_at(cluster_id=cid, group="", resource="configmaps", at=mid))
    assert [(o["metadata"]["name"], o["data"]["k"]) for o in past] == [("a", "1"), ("b", "1")]
    items, rev = selectors.list_current(cluster_id=cid, group="", resource="configmaps")
    assert [(o["metadata"]["name"], o["data"]["k"]) for o in items] == [("a", "2")]
    assert rev == selectors.revision(cid)[0]
