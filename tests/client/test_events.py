"""The event recorder against a live apiserver: repeats counted, spam dropped, as client-go does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubeviz.client import CONFIGMAPS, EVENTS, Client
from kubeviz.client.events import EventRecorder


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_repeats_are_counted_and_spam_is_dropped(cluster) -> None:
    client = Client(cluster.server, component="kube-controller-manager", name="test")
    clock = Clock()
    recorder = EventRecorder(client, component="replicaset-controller", cluster=cluster.name, clock=clock)
    cm = client.create(CONFIGMAPS, {"metadata": {"name": "subject", "namespace": "default"}})

    for _ in range(3):
        recorder.normal(cm, "Poked", "the same thing again")
    for i in range(30):
        recorder.normal(cm, "SuccessfulCreate", f"Created pod: web-{i}")

    def events() -> list[dict]:
        return client.list(EVENTS, namespace="default", field_selector="involvedObject.name=subject").items

    found = events()
    poked = [e for e in found if e["reason"] == "Poked"]
    assert len(poked) == 1 and poked[0]["count"] == 3
    assert poked[0]["source"] == {"component": "replicaset-controller"}
    assert poked[0]["involvedObject"]["uid"] == cm["metadata"]["uid"]
    # 25 tokens: 3 spent on "Poked" (repeats count too), 22 left for the creates.
    assert len([e for e in found if e["reason"] == "SuccessfulCreate"]) == 22

    clock.now += timedelta(seconds=299)
    recorder.normal(cm, "SuccessfulCreate", "Created pod: late-1")
    clock.now += timedelta(seconds=1)  # 300 s after the bucket ran dry: one more token
    recorder.normal(cm, "SuccessfulCreate", "Created pod: late-2")
    late = {e["message"] for e in events()} & {"Created pod: late-1", "Created pod: late-2"}
    assert late == {"Created pod: late-2"}
    client.close()
