"""The per-browser outbox: state is coalesced, passing messages dropped, order kept."""

from __future__ import annotations

from kubeviz.stream.outbox import Outbox


def event(name: str, revision: int, kind: str = "MODIFIED") -> dict:
    return {"type": "event", "event": kind, "name": name, "revision": revision}


def revisions(messages: list[dict]) -> list[int]:
    return [m["revision"] for m in messages if m["type"] == "event"]


def test_under_the_limit_everything_waits_in_order() -> None:
    box = Outbox(limit=10)
    for i in range(10):
        box.put_state(("pods", f"p{i % 3}"), event(f"p{i % 3}", i + 1))
    assert revisions(box.take(100)) == list(range(1, 11))


def test_at_the_limit_a_newer_state_replaces_the_waiting_one_and_moves_to_the_back() -> None:
    box = Outbox(limit=3)
    box.put_state("a", event("a", 1, "ADDED"))
    box.put_state("b", event("b", 2))
    box.put_state("c", event("c", 3))
    box.put_state("a", event("a", 4))  # full: replaces a@1, and the browser never saw a ADDED
    assert len(box) == 3
    out = box.take(10)
    assert out[0] == {"type": "coalesced", "coalesced": 1, "dropped": {}}
    assert revisions(out) == [2, 3, 4], "still in revision order, so a resume from 4 misses nothing"
    assert out[-1]["event"] == "ADDED"


def test_state_of_new_objects_is_never_dropped_but_bounded_by_the_number_of_objects() -> None:
    box = Outbox(limit=5)
    for rev in range(1, 10_001):
        box.put_state(f"pod-{rev % 50}", event(f"pod-{rev % 50}", rev))
    assert len(box) == 50, "one waiting state per object, however many events came"
    out = box.take(100)
    assert out[0]["coalesced"] == 10_000 - 50, "every event after each object's first was folded in"
    assert sorted(m["name"] for m in out[1:]) == sorted(f"pod-{i}" for i in range(50))
    assert revisions(out) == sorted(revisions(out))
    assert revisions(out)[-1] == 10_000


def test_passing_messages_are_dropped_past_the_limit_and_counted() -> None:
    box = Outbox(limit=2)
    for i in range(5):
        box.put_passing({"type": "request", "i": i})
    box.put_passing({"type": "action"})
    out = box.take(10)
    assert out[0] == {"type": "coalesced", "coalesced": 0, "dropped": {"request": 3, "action": 1}}
    assert [m["i"] for m in out[1:]] == [0, 1]
    assert box.take(10) == [], "the notice is given once"


def test_a_snapshot_supersedes_everything_waiting() -> None:
    box = Outbox(limit=10)
    box.put_state("a", event("a", 1))
    box.put_passing({"type": "request"})
    box.put_reset({"type": "snapshot", "revision": 7})
    box.put_state("a", event("a", 8))
    assert [m["type"] for m in box.take(10)] == ["snapshot", "event"]


def test_take_hands_out_at_most_count() -> None:
    box = Outbox(limit=100)
    for i in range(7):
        box.put_state(i, event(str(i), i + 1))
    assert revisions(box.take(3)) == [1, 2, 3]
    assert revisions(box.take(3)) == [4, 5, 6]
    assert revisions(box.take(3)) == [7]
