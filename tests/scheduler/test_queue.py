"""The scheduling queue's sub-queues on a real Redis, with a fake clock."""

from __future__ import annotations

import uuid

from kubeviz.scheduler.queue import SchedulingQueue


def make(speed: float = 1.0) -> SchedulingQueue:
    return SchedulingQueue(f"c-{uuid.uuid4().hex[:8]}", speed=speed)


def test_pops_by_priority_then_arrival() -> None:
    q = make()
    q.add("ns/low", priority=0, now=1.0)
    q.add("ns/high", priority=1000, now=2.0)
    q.add("ns/low2", priority=0, now=3.0)
    assert q.pop(10, now=4.0) == ["ns/high", "ns/low", "ns/low2"]
    assert q.pop(10, now=4.0) == []


def test_a_queued_pod_is_not_added_twice() -> None:
    q = make()
    assert q.add("ns/a", now=1.0)
    assert not q.add("ns/a", now=2.0)
    q.pop(1, now=3.0)
    q.park_unschedulable("ns/a", now=3.0)
    assert not q.add("ns/a", now=4.0)  # parked pods wait for a cluster event
    assert q.lengths() == {"active": 0, "backoff": 0, "unschedulable": 1}


def test_cluster_event_moves_parked_pods_to_backoff_then_active() -> None:
    q = make()
    q.add("ns/a", now=0.0)
    q.pop(1, now=0.0)
    q.park_unschedulable("ns/a", now=10.0)  # first failure: backoff 1 s
    assert q.move_all_to_active_or_backoff(now=10.5) == 1
    assert q.lengths() == {"active": 0, "backoff": 1, "unschedulable": 0}
    assert q.pop(5, now=10.9) == []
    assert q.pop(5, now=11.0) == ["ns/a"]


def test_backoff_doubles_up_to_ten_seconds_and_scales_with_speed() -> None:
    q = make()
    assert [q.backoff_for(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert make(speed=10).backoff_for(3) == 0.4


def test_errors_back_off_and_done_resets_attempts() -> None:
    q = make()
    assert q.back_off("ns/a", now=0.0) == 1.0
    assert q.back_off("ns/a", now=0.0) == 2.0
    assert q.next_backoff_due() == 2.0
    q.done("ns/a")
    assert q.back_off("ns/a", now=0.0) == 1.0


def test_leftover_unschedulable_pods_are_flushed_after_five_minutes() -> None:
    q = make()
    q.park_unschedulable("ns/a", now=0.0)
    assert q.flush_unschedulable_leftover(now=299.0) == 0
    assert q.flush_unschedulable_leftover(now=300.0) == 1
    assert q.pop(5, now=300.0) == ["ns/a"]


def test_delete_forgets_the_pod_everywhere() -> None:
    q = make()
    q.add("ns/a", now=0.0)
    q.back_off("ns/b", now=0.0)
    q.park_unschedulable("ns/c", now=0.0)
    for key in ("ns/a", "ns/b", "ns/c"):
        q.delete(key)
    assert q.lengths() == {"active": 0, "backoff": 0, "unschedulable": 0}


def test_a_cluster_event_during_an_attempt_is_not_lost_on_the_pod() -> None:
    # A node is added while the pod is being tried: parking it would leave it waiting for the
    # next event, so it backs off instead (upstream's moveRequestCycle).
    q = make()
    q.add("ns/a", now=0.0)
    assert q.pop(1, now=0.0) == ["ns/a"]
    q.move_all_to_active_or_backoff(now=0.5)  # nothing parked yet
    assert not q.park_unschedulable("ns/a", now=1.0)
    assert q.lengths() == {"active": 0, "backoff": 1, "unschedulable": 0}
    assert q.pop(1, now=2.0) == ["ns/a"]
    assert q.park_unschedulable("ns/a", now=2.0)  # no event this time: parked


def test_a_pod_whose_task_died_in_flight_is_requeued_after_the_ttl() -> None:
    from kubeviz.scheduler.queue import IN_FLIGHT_TTL

    q = make()
    for name in ("ns/bound", "ns/parked", "ns/lost", "ns/errored", "ns/gone"):
        q.add(name, now=0.0)
    assert len(q.pop(10, now=1.0)) == 5
    assert sorted(q.in_flight()) == ["ns/bound", "ns/errored", "ns/gone", "ns/lost", "ns/parked"]
    q.done("ns/bound")
    q.park_unschedulable("ns/parked", now=2.0)
    q.back_off("ns/errored", now=2.0)
    q.delete("ns/gone")
    # "ns/lost" was popped by a task that was killed before it did anything with it.
    assert q.in_flight() == ["ns/lost"]
    assert q.requeue_lost(now=1.0 + IN_FLIGHT_TTL - 1) == 0  # a live task may still hold it
    assert q.requeue_lost(now=1.0 + IN_FLIGHT_TTL) == 1
    assert q.in_flight() == []
    assert sorted(q.pop(10, now=100.0)) == ["ns/errored", "ns/lost"]


def test_a_lost_pod_that_was_queued_again_meanwhile_is_not_queued_twice() -> None:
    from kubeviz.scheduler.queue import IN_FLIGHT_TTL

    q = make()
    q.add("ns/a", now=0.0)
    q.pop(1, now=0.0)
    q.add("ns/a", now=5.0)  # the informer saw it again and queued it
    assert q.requeue_lost(now=IN_FLIGHT_TTL + 1) == 0
    assert q.lengths()["active"] == 1
