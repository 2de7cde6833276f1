"""Table-driven tests of the Deployment controller's pure helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.controllers.deployment import helpers as h
from kubeviz.controllers.timestamps import format_time

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def deployment(
    replicas: int = 10,
    *,
    surge: int | str | None = "25%",
    unavailable: int | str | None = "25%",
    strategy: str = "RollingUpdate",
    status: dict[str, Any] | None = None,
    deadline: int | None = 600,
    generation: int = 1,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"replicas": replicas, "strategy": {"type": strategy}}
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return {"metadata": {"name": "web", "generation": generation}, "spec": spec, "status": status or {}}


def rs(
    name: str,
    replicas: int,
    *,
    available: int | None = None,
    rev: int | None = None,
    created: int = 0,
    status_replicas: int | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "creationTimestamp": format_time(NOW + timedelta(minutes=created))}
    if rev is not None:
        meta["annotations"] = {h.REVISION_ANNOTATION: str(rev)}
    return {
        "metadata": meta,
        "spec": {"replicas": replicas},
        "status": {
            "replicas": replicas if status_replicas is None else status_replicas,
            "availableReplicas": replicas if available is None else available,
            "readyReplicas": replicas if available is None else available,
        },
    }


# --- hashing ----------------------------------------------------------------------------------


def test_fnv32a_matches_the_reference_vectors() -> None:
    assert h._fnv32a(b"") == 0x811C9DC5
    assert h._fnv32a(b"a") == 0xE40C292C
    assert h._fnv32a(b"foobar") == 0xBF9CF968


def test_safe_encode_maps_digits_onto_the_alphabet() -> None:
    assert (
        h.safe_encode("0123456789") == "456789bcdf"
    )  # byte % 27: "0" is 48 -> 21 -> "4", "6" is 54 -> 0 -> "b"


TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def test_pod_template_hash_is_stable_and_safe() -> None:
    reordered = {"spec": TEMPLATE["spec"], "metadata": TEMPLATE["metadata"]}
    value = h.compute_pod_template_hash(TEMPLATE)
    assert value == h.compute_pod_template_hash(reordered)
    assert 1 <= len(value) <= 10
    assert set(value) <= set(h.SAFE_ALPHABET)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((TEMPLATE, None), (TEMPLATE, 0)),  # a collision count of 0 still changes the hash
        ((TEMPLATE, 0), (TEMPLATE, 1)),
        ((TEMPLATE, None), ({**TEMPLATE, "metadata": {"labels": {"app": "api"}}}, None)),
    ],
)
def test_pod_template_hash_changes(a: tuple[Any, int | None], b: tuple[Any, int | None]) -> None:
    assert h.compute_pod_template_hash(*a) != h.compute_pod_template_hash(*b)


# --- fenceposts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        ("25%", "25%", 10, (3, 2)),  # 2.5 surges up to 3, unavailability down to 2
        ("25%", "25%", 1, (1, 0)),
        ("50%", "50%", 5, (3, 2)),
        (0, "25%", 3, (0, 1)),  # 0.75 rounds down to 0: both zero, so one may be unavailable
        ("0%", "0%", 10, (0, 1)),
        (None, None, 4, (0, 1)),
        ("10%", "10%", 0, (0, 1)),
        (1, 0, 5, (1, 0)),
        (0, 2, 5, (0, 2)),
        ("100%", "100%", 7, (7, 7)),
    ],
)
def test_resolve_fenceposts(
    surge: int | str | None, unavailable: int | str | None, desired: int, expected: tuple[int, int]
) -> None:
    assert h.resolve_fenceposts(surge, unavailable, desired) == expected


@pytest.mark.parametrize("bad", ["25", "x%", "abc"])
def test_resolve_fenceposts_rejects_non_percentages(bad: str) -> None:
    with pytest.raises(ValueError):
        h.resolve_fenceposts(bad, 1, 10)


@pytest.mark.parametrize(
    ("d", "surge", "unavailable"),
    [
        (deployment(10), 3, 2),
        (deployment(0), 0, 0),  # nothing desired: nothing may be unavailable
        (deployment(2, surge=0, unavailable=5), 0, 2),  # capped at replicas
        (deployment(10, strategy="Recreate"), 0, 0),
    ],
)
def test_max_surge_and_unavailable(d: dict[str, Any], surge: int, unavailable: int) -> None:
    assert (h.max_surge(d), h.max_unavailable(d)) == (surge, unavailable)


# --- revisions --------------------------------------------------------------------------------


def test_max_revision_ignores_missing_and_malformed() -> None:
    bad = rs("bad", 0)
    bad["metadata"]["annotations"] = {h.REVISION_ANNOTATION: "x"}
    assert h.max_revision([rs("a", 0, rev=3), rs("b", 0), bad, rs("c", 0, rev=11)]) == 11
    assert h.max_revision([]) == 0


def test_revision_annotations_move_forward_and_keep_history() -> None:
    first = h.revision_annotations(None, 1)
    assert first == {h.REVISION_ANNOTATION: "1"}
    rolled_back = h.revision_annotations({h.REVISION_ANNOTATION: "1"}, 4)
    assert rolled_back == {h.REVISION_ANNOTATION: "4", h.REVISION_HISTORY_ANNOTATION: "1"}
    again = h.revision_annotations(rolled_back, 6)
    assert again[h.REVISION_HISTORY_ANNOTATION] == "1,4"
    assert h.revision_annotations({h.REVISION_ANNOTATION: "5"}, 3) == {h.REVISION_ANNOTATION: "5"}


def test_replicas_annotations() -> None:
    got = h.replicas_annotations({"keep": "me"}, deployment(10))
    assert got == {"keep": "me", h.DESIRED_REPLICAS_ANNOTATION: "10", h.MAX_REPLICAS_ANNOTATION: "13"}


def test_revision_history_drops_its_oldest_entries_past_the_limit() -> None:
    annotations = {h.REVISION_ANNOTATION: "7", h.REVISION_HISTORY_ANNOTATION: "1,3,5"}
    assert h.revision_annotations(annotations, 9, limit=4)[h.REVISION_HISTORY_ANNOTATION] == "5,7"
    assert h.revision_annotations(annotations, 9)[h.REVISION_HISTORY_ANNOTATION] == "1,3,5,7"


def annotated(d: dict[str, Any], annotations: dict[str, str]) -> dict[str, Any]:
    return {**d, "metadata": {**d["metadata"], "annotations": annotations}}


def test_new_replicaset_annotations_copy_the_deployments_own_and_skip_bookkeeping() -> None:
    d = annotated(
        deployment(10),
        {
            "kubernetes.io/change-cause": "image bump",
            h.LAST_APPLIED_ANNOTATION: "{}",
            h.REVISION_ANNOTATION: "4",
            h.ROLLBACK_TO_ANNOTATION: "1",
        },
    )
    created = h.new_replicaset_annotations(deployment=d, annotations=None, new_revision=5, exists=False)
    assert created == {
        "kubernetes.io/change-cause": "image bump",
        h.REVISION_ANNOTATION: "5",
        h.DESIRED_REPLICAS_ANNOTATION: "10",
        h.MAX_REPLICAS_ANNOTATION: "13",
    }
    # An existing ReplicaSet keeps its replica annotations (a resize rewrites them) and its
    # revision history grows when a rollback makes it new again.
    existing = {h.REVISION_ANNOTATION: "2", h.DESIRED_REPLICAS_ANNOTATION: "3", "mine": "kept"}
    reused = h.new_replicaset_annotations(deployment=d, annotations=existing, new_revision=5, exists=True)
    assert reused == {
        "kubernetes.io/change-cause": "image bump",
        "mine": "kept",
        h.REVISION_ANNOTATION: "5",
        h.REVISION_HISTORY_ANNOTATION: "2",
        h.DESIRED_REPLICAS_ANNOTATION: "3",
    }


def test_deployment_annotations_from_a_rollback_target() -> None:
    d = annotated(deployment(), {h.REVISION_ANNOTATION: "4", "kubernetes.io/change-cause": "v2", "x": "y"})
    target = rs("old", 0, rev=1)
    target["metadata"]["annotations"]["kubernetes.io/change-cause"] = "v1"
    assert h.deployment_annotations_from(d, target) == {
        h.REVISION_ANNOTATION: "4",
        "kubernetes.io/change-cause": "v1",
    }


@pytest.mark.parametrize(
    ("revisions", "expected"),
    [([], 0), ([1], 0), ([1, 2], 1), ([3, 1, 2], 2), ([2, 2], 2), ([None, 5], 0)],
)
def test_last_revision_is_the_one_before_the_newest(revisions: list[int | None], expected: int) -> None:
    assert h.last_revision([rs(f"r{i}", 0, rev=r) for i, r in enumerate(revisions)]) == expected


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("0", 0), ("3", 3), ("x", None)])
def test_rollback_to_reads_the_deprecated_annotation(value: str | None, expected: int | None) -> None:
    d = deployment() if value is None else annotated(deployment(), {h.ROLLBACK_TO_ANNOTATION: value})
    assert h.rollback_to(d) == expected


# --- scaling ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "old", "new", "expected"),
    [
        (deployment(10), 10, 0, 3),  # ceiling 13, total 10: grow by the surge
        (deployment(10), 10, 3, 3),  # at the ceiling: wait for old pods to go
        (deployment(10), 2, 8, 10),  # room for 3 but only 2 more are wanted
        (deployment(10), 9, 3, 4),
        (deployment(10, surge=0, unavailable=1), 10, 0, 0),
        (deployment(10, strategy="Recreate"), 0, 0, 10),
    ],
)
def test_new_rs_replicas(d: dict[str, Any], old: int, new: int, expected: int) -> None:
    new_rs = rs("new", new)
    assert h.new_rs_replicas(deployment=d, all_rss=[rs("old", old), new_rs], new_rs=new_rs) == expected


@pytest.mark.parametrize(
    ("d", "new_rs", "old_rss", "expected"),
    [
        # 13 pods, minAvailable 8, 3 new ones unavailable: budget 2, all of it from available pods.
        (deployment(10), rs("new", 3, available=0), [rs("old", 10)], h.OldScaleDown({"old": 8}, 0, 2)),
        # maxUnavailable 0: budget 13 - 10 - 3 = 0, nothing moves.
        (
            deployment(10, surge=3, unavailable=0),
            rs("new", 3, available=0),
            [rs("old", 10)],
            h.OldScaleDown(),
        ),
        # Unhealthy pods go first, limited by the budget (12 - 8 - 2 = 2); no available pod can go.
        (
            deployment(10),
            rs("new", 2, available=0),
            [rs("old1", 5, available=2, created=1), rs("old2", 5, created=2)],
            h.OldScaleDown({"old1": 3}, 2, 0),
        ),
        # Available pods come from the oldest ReplicaSet first.
        (
            deployment(10),
            rs("new", 5),
            [rs("old-b", 5, created=2), rs("old-a", 2, created=1)],
            h.OldScaleDown({"old-a": 0, "old-b": 3}, 0, 4),
        ),
        (deployment(10), rs("new", 10), [rs("old", 0)], h.OldScaleDown()),
    ],
)
def test_reconcile_old_replicasets(
    d: dict[str, Any], new_rs: dict[str, Any], old_rss: list[dict[str, Any]], expected: h.OldScaleDown
) -> None:
    assert h.reconcile_old_replicasets(deployment=d, new_rs=new_rs, old_rss=old_rss) == expected


def test_clean_up_old_replicasets() -> None:
    old = [rs(f"r{i}", 0, rev=i, created=i) for i in range(5, 0, -1)]
    names = [r["metadata"]["name"] for r in h.clean_up_old_replicasets(old, 2)]
    assert names == ["r1", "r2", "r3"]
    old[3]["spec"]["replicas"] = 1  # r2 still holds pods: kept, and r4 is not taken instead
    assert [r["metadata"]["name"] for r in h.clean_up_old_replicasets(old, 2)] == ["r1", "r3"]
    assert h.clean_up_old_replicasets(old, None) == []
    assert h.clean_up_old_replicasets(old, 5) == []


def test_clean_up_old_replicasets_skips_deleting_and_unobserved() -> None:
    deleting = rs("d", 0, rev=1)
    deleting["metadata"]["deletionTimestamp"] = format_time(NOW)
    unobserved = rs("u", 0, rev=2)
    unobserved["metadata"]["generation"] = 3
    unobserved["status"]["observedGeneration"] = 2
    lingering = rs("p", 0, rev=3, status_replicas=1)
    kept = rs("k", 0, rev=4)
    # 'd' is already going and does not count; of the 4 alive, 3 are surplus; none may go.
    assert h.clean_up_old_replicasets([kept, lingering, unobserved, deleting], 1) == []


def sized(name: str, replicas: int, *, max_replicas: int | None, created: int = 0) -> dict[str, Any]:
    out = rs(name, replicas, created=created)
    if max_replicas is not None:
        out["metadata"]["annotations"] = {h.MAX_REPLICAS_ANNOTATION: str(max_replicas)}
    return out


@pytest.mark.parametrize(
    ("replicas", "rss", "expected", "direction"),
    [
        # Upstream's TestScale cases, with no surge so max-replicas is the previous size.
        (10, [("old", 3, 5, 0), ("new", 2, 5, 1)], {"old": 6, "new": 4}, "up"),
        (3, [("old", 3, 5, 0), ("new", 2, 5, 1)], {"old": 2, "new": 1}, "down"),
        (4, [("old", 1, 9, 0), ("new", 8, 9, 1)], {"new": 4, "old": 0}, "down"),
        (10, [("a", 3, 7, 0), ("b", 2, 7, 1), ("new", 2, 7, 2)], {"a": 4, "new": 3, "b": 3}, "up"),
        (8, [("a", 8, 13, 0), ("b", 3, 13, 1), ("new", 2, 13, 2)], {"a": 5, "b": 2, "new": 1}, "down"),
        # Nobody's share rounds to a pod: the leftover goes to the largest, the newest on ties.
        (4, [("a", 1, 3, 0), ("b", 1, 3, 1), ("c", 1, 3, 2)], {"c": 2, "b": 1, "a": 1}, "up"),
        # Scaling to zero empties everything.
        (0, [("old", 3, 5, 0), ("new", 2, 5, 1)], {"old": 0, "new": 0}, "down"),
        # No annotation: the previous size is taken from the Deployment's status.
        (10, [("old", 3, None, 0), ("new", 2, None, 1)], {"old": 6, "new": 4}, "up"),
        (5, [("old", 3, 5, 0), ("new", 2, 5, 1)], {"old": 3, "new": 2}, ""),
    ],
)
def test_proportional_scale(
    replicas: int, rss: list[tuple[str, int, int | None, int]], expected: dict[str, int], direction: str
) -> None:
    d = deployment(replicas, surge=0, unavailable=1, status={"replicas": 5})
    active = [sized(name, size, max_replicas=m, created=c) for name, size, m, c in rss]
    plan = h.proportional_scale(deployment=d, active_rss=active)
    assert plan.sizes == expected
    assert list(plan.sizes) == list(expected)  # the order the writes go out in
    assert plan.direction == direction


def test_find_active_or_latest() -> None:
    new, old_a, old_b = rs("new", 0, created=3), rs("a", 0, created=1), rs("b", 0, created=2)
    assert h.find_active_or_latest(None, []) is None
    assert h.find_active_or_latest(new, [old_a, old_b]) is new  # nothing active: the newest
    assert h.find_active_or_latest(None, [old_a, old_b]) is old_b
    busy = rs("a", 3, created=1)
    assert h.find_active_or_latest(new, [busy, old_b]) is busy  # the only active one
    assert h.find_active_or_latest(rs("new", 1), [busy]) is None  # mid-rollout


def test_is_saturated_and_is_scaling_event() -> None:
    d = deployment(3)
    full = rs("new", 3)
    full["metadata"]["annotations"] = {h.DESIRED_REPLICAS_ANNOTATION: "3"}
    assert h.is_saturated(d, full)
    assert not h.is_saturated(deployment(4), full)
    assert not h.is_saturated(d, rs("new", 3)) and not h.is_saturated(d, None)
    assert not h.is_scaling_event(d, [full, rs("unrecorded", 2)])
    assert h.is_scaling_event(deployment(5), [full])


TEMPLATE_WITH_HASH = {
    "metadata": {"labels": {"app": "web", h.UNIQUE_LABEL_KEY: "abc"}, "annotations": {}},
    "spec": {"containers": [{"name": "c", "image": "nginx", "env": []}]},
}


@pytest.mark.parametrize(
    ("other", "equal"),
    [
        (TEMPLATE, True),  # the hash label, empty maps and empty lists do not count
        ({**TEMPLATE, "metadata": {"labels": {"app": "web", h.UNIQUE_LABEL_KEY: "xyz"}}}, True),
        ({**TEMPLATE, "metadata": {"labels": {"app": "api"}}}, False),
        ({**TEMPLATE, "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}, False),
    ],
)
def test_equal_ignore_hash(other: dict[str, Any], equal: bool) -> None:
    assert h.equal_ignore_hash(TEMPLATE_WITH_HASH, other) is equal


def test_find_new_replicaset_picks_the_oldest_match() -> None:
    def with_template(name: str, template: dict[str, Any], created: int) -> dict[str, Any]:
        out = rs(name, 1, created=created)
        out["spec"]["template"] = template
        return out

    d = {**deployment(), "spec": {**deployment()["spec"], "template": TEMPLATE}}
    older = with_template("older", h.with_hash(TEMPLATE, "b"), 1)
    newer = with_template("newer", h.with_hash(TEMPLATE, "a"), 2)
    other = with_template("other", {**TEMPLATE, "metadata": {"labels": {"app": "x"}}}, 0)
    assert h.find_new_replicaset(d, [newer, other, older]) is older
    assert h.find_new_replicaset(d, [other]) is None


def test_hash_is_added_to_template_and_selector_without_touching_the_originals() -> None:
    selector = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "t", "operator": "Exists"}]}
    assert h.selector_with_hash(selector, "abc") == {
        "matchLabels": {"app": "web", h.UNIQUE_LABEL_KEY: "abc"},
        "matchExpressions": [{"key": "t", "operator": "Exists"}],
    }
    assert selector["matchLabels"] == {"app": "web"}
    assert h.with_hash(TEMPLATE, "abc")["metadata"]["labels"] == {"app": "web", h.UNIQUE_LABEL_KEY: "abc"}
    assert h.template_without_hash(TEMPLATE_WITH_HASH)["metadata"]["labels"] == {"app": "web"}
    assert TEMPLATE["metadata"]["labels"] == {"app": "web"}


def pod(phase: str) -> dict[str, Any]:
    return {"metadata": {"name": phase}, "status": {"phase": phase}}


@pytest.mark.parametrize(
    ("old_status_replicas", "pods", "running"),
    [
        (0, {}, False),
        (1, {}, True),  # the old ReplicaSet still counts a pod
        (0, {"old-uid": [pod("Running")]}, True),  # counted out, but not gone yet
        (0, {"old-uid": [pod("Pending")]}, True),
        (0, {"old-uid": [pod("Unknown")]}, True),
        (0, {"old-uid": [pod("Succeeded"), pod("Failed")]}, False),
        (0, {"new-uid": [pod("Running")]}, False),  # the new ReplicaSet's pods do not count
    ],
)
def test_old_pods_running(old_status_replicas: int, pods: dict[str, list[Any]], running: bool) -> None:
    new_rs = rs("new", 2)
    new_rs["metadata"]["uid"] = "new-uid"
    old = rs("old", 0, status_replicas=old_status_replicas)
    assert h.old_pods_running(new_rs=new_rs, old_rss=[old], pods_by_rs=pods) is running


# --- conditions -------------------------------------------------------------------------------


def test_set_condition_keeps_transition_time_unless_status_flips() -> None:
    t0, t1 = NOW, NOW + timedelta(minutes=1)
    status = h.set_condition({}, h.new_condition("Progressing", "True", "A", "m", now=t0))
    same = h.set_condition(status, h.new_condition("Progressing", "True", "A", "other", now=t1))
    assert same == status  # same status and reason: untouched, even the message
    reworded = h.set_condition(status, h.new_condition("Progressing", "True", "B", "m2", now=t1))
    cond = h.get_condition(reworded, "Progressing")
    assert cond is not None
    assert (cond["reason"], cond["lastTransitionTime"], cond["lastUpdateTime"]) == (
        "B",
        format_time(t0),
        format_time(t1),
    )
    flipped = h.get_condition(
        h.set_condition(status, h.new_condition("Progressing", "False", "B", "m", now=t1)), "Progressing"
    )
    assert flipped is not None
    assert flipped["lastTransitionTime"] == format_time(t1)
    assert h.get_condition(status, "Available") is None


def test_condition_builders_use_upstream_reasons_and_messages() -> None:
    created = h.new_rs_created_condition("web-abc", now=NOW)
    found = h.found_new_rs_condition("web-abc", now=NOW)
    assert (created["reason"], created["message"]) == (
        "NewReplicaSetCreated",
        'Created new replica set "web-abc"',
    )
    assert (found["reason"], found["message"]) == ("FoundNewReplicaSet", 'Found new replica set "web-abc"')


def progressing(reason: str, *, updated: datetime = NOW, status: str = "True") -> dict[str, Any]:
    return {
        "type": "Progressing",
        "status": status,
        "reason": reason,
        "message": "",
        "lastUpdateTime": format_time(updated),
        "lastTransitionTime": format_time(updated),
    }


@pytest.mark.parametrize(
    ("reason", "elapsed", "deadline", "timed_out"),
    [
        ("ReplicaSetUpdated", 600, 600, False),  # exactly at the deadline: not yet
        ("ReplicaSetUpdated", 601, 600, True),
        ("NewReplicaSetAvailable", 9999, 600, False),  # a finished rollout never times out
        ("ProgressDeadlineExceeded", 0, 600, True),
        ("ReplicaSetUpdated", 9999, 2**31 - 1, False),  # MaxInt32: no deadline
    ],
)
def test_deployment_timed_out(reason: str, elapsed: int, deadline: int, timed_out: bool) -> None:
    d = deployment(status={"conditions": [progressing(reason)]}, deadline=deadline)
    assert h.deployment_timed_out(d, NOW + timedelta(seconds=elapsed)) is timed_out


def test_deployment_timed_out_without_condition() -> None:
    assert not h.deployment_timed_out(deployment(), NOW + timedelta(days=1))


@pytest.mark.parametrize(
    ("new", "complete"),
    [
        ({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3, "observedGeneration": 2}, True),
        ({"updatedReplicas": 3, "replicas": 4, "availableReplicas": 3, "observedGeneration": 2}, False),
        ({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 2, "observedGeneration": 2}, False),
        ({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3, "observedGeneration": 1}, False),
    ],
)
def test_deployment_complete(new: dict[str, int], complete: bool) -> None:
    assert h.deployment_complete(deployment(3, generation=2), new) is complete


OLD_STATUS = {"replicas": 5, "updatedReplicas": 2, "readyReplicas": 3, "availableReplicas": 3}


@pytest.mark.parametrize(
    ("change", "progressing_now"),
    [
        ({}, False),
        ({"updatedReplicas": 3}, True),
        ({"replicas": 4}, True),  # fewer old pods
        ({"readyReplicas": 4}, True),
        ({"availableReplicas": 4}, True),
        ({"readyReplicas": 2, "availableReplicas": 2}, False),
    ],
)
def test_deployment_progressing(change: dict[str, int], progressing_now: bool) -> None:
    d = deployment(5, status=OLD_STATUS)
    assert h.deployment_progressing(d, {**OLD_STATUS, **change}) is progressing_now


def test_sync_progress_condition_messages() -> None:
    later = NOW + timedelta(minutes=1)
    d = deployment(5, status={**OLD_STATUS, "conditions": [progressing("NewReplicaSetCreated")]})
    moving = h.sync_progress_condition(
        deployment=d,
        status={**OLD_STATUS, "updatedReplicas": 3, "conditions": d["status"]["conditions"]},
        new_rs_name="web-x",
        now=later,
    )
    cond = h.get_condition(moving, "Progressing")
    assert cond is not None
    assert (cond["reason"], cond["message"]) == ("ReplicaSetUpdated", 'ReplicaSet "web-x" is progressing.')
    assert (cond["lastUpdateTime"], cond["lastTransitionTime"]) == (format_time(later), format_time(NOW))

    done = {
        "replicas": 5,
        "updatedReplicas": 5,
        "readyReplicas": 5,
        "availableReplicas": 5,
        "observedGeneration": 1,
    }
    finished = h.get_condition(
        h.sync_progress_condition(deployment=d, status=done, new_rs_name="web-x", now=later), "Progressing"
    )
    assert finished is not None
    assert (finished["reason"], finished["message"]) == (
        "NewReplicaSetAvailable",
        'ReplicaSet "web-x" has successfully progressed.',
    )

    stuck = {**OLD_STATUS, "conditions": d["status"]["conditions"]}
    late = NOW + timedelta(seconds=601)
    timed = h.get_condition(
        h.sync_progress_condition(deployment=d, status=stuck, new_rs_name=None, now=late), "Progressing"
    )
    assert timed is not None
    assert (timed["status"], timed["reason"], timed["message"]) == (
        "False",
        "ProgressDeadlineExceeded",
        'Deployment "web" has timed out progressing.',
    )


@pytest.mark.parametrize(
    ("reason", "complete", "deadline", "expected"),
    [
        ("ReplicaSetUpdated", False, 600, 540.0),  # updated a minute ago: nine minutes left
        ("ReplicaSetUpdated", False, 30, -30.0),  # already past: look again at once
        ("ReplicaSetUpdated", True, 600, None),  # complete: nothing to watch for
        ("ProgressDeadlineExceeded", False, 600, None),  # already reported
        ("ReplicaSetUpdated", False, 2**31 - 1, None),  # no deadline
        (None, False, 600, None),  # no condition to measure from
    ],
)
def test_progress_check_delay(
    reason: str | None, complete: bool, deadline: int, expected: float | None
) -> None:
    conditions = [progressing(reason)] if reason else []
    d = deployment(3, status={"conditions": conditions}, deadline=deadline)
    counts = 3 if complete else 1
    new = {"replicas": 3, "updatedReplicas": counts, "availableReplicas": counts, "observedGeneration": 1}
    assert h.progress_check_delay(d, new, now=NOW + timedelta(minutes=1)) == expected


def failing(name: str, message: str) -> dict[str, Any]:
    out = rs(name, 1)
    out["status"]["conditions"] = [
        {
            "type": "ReplicaFailure",
            "status": "True",
            "reason": "FailedCreate",
            "message": message,
            "lastTransitionTime": format_time(NOW),
        }
    ]
    return out


def test_replica_failure_condition_prefers_the_new_replicaset() -> None:
    old, new = failing("old", "old quota"), failing("new", "new quota")
    cond = h.replica_failure_condition([old, new], new)
    assert cond == {
        "type": "ReplicaFailure",
        "status": "True",
        "reason": "FailedCreate",
        "message": "new quota",
        "lastUpdateTime": format_time(NOW),
        "lastTransitionTime": format_time(NOW),
    }
    healthy = rs("new", 1)
    found = h.replica_failure_condition([old, healthy], healthy)
    assert found is not None and found["message"] == "old quota"
    assert h.replica_failure_condition([healthy], healthy) is None


# --- status -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("available_old", "available", "reason", "message"),
    [
        (6, "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),  # 8 >= 10 - 2
        (5, "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
    ],
)
def test_calculate_status(available_old: int, available: str, reason: str, message: str) -> None:
    d = deployment(10, status={"collisionCount": 1}, generation=4)
    new_rs = rs("new", 4, available=2)
    old = rs("old", 8, available=available_old)
    status = h.calculate_status(deployment=d, all_rss=[old, new_rs], new_rs=new_rs, now=NOW)
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "observedGeneration": 4,
        "replicas": 12,
        "updatedReplicas": 4,
        "readyReplicas": 2 + available_old,
        "availableReplicas": 2 + available_old,
        "unavailableReplicas": 12 - 2 - available_old,
        "terminatingReplicas": 0,
        "collisionCount": 1,
    }
    cond = h.get_condition(status, "Available")
    assert cond is not None
    assert (cond["status"], cond["reason"], cond["message"]) == (available, reason, message)


def test_calculate_status_floors_unavailable_at_zero() -> None:
    d = deployment(2)
    extra = rs("new", 2, available=3)
    assert (
        h.calculate_status(deployment=d, all_rss=[extra], new_rs=extra, now=NOW)["unavailableReplicas"] == 0
    )
