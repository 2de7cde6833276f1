import { describe, expect, it } from "vitest";
import type { EventMsg, Message, SnapshotMsg } from "../api/types";
import { descendants, emptyState, podPhase, reduce } from "./cluster";

const machines = [
  { name: "master-1", role: "master" as const, running: true, components: [] },
  { name: "worker-1", role: "worker" as const, running: true, components: [] },
];

function pod(name: string, uid: string, node = "worker-1", extra: Record<string, unknown> = {}) {
  return {
    kind: "Pod",
    metadata: { name, namespace: "default", uid, creationTimestamp: `2026-01-01T00:00:0${uid.length}Z` },
    spec: { nodeName: node },
    status: { phase: "Running" },
    ...extra,
  };
}

function snapshot(revision: number, pods: ReturnType<typeof pod>[]): SnapshotMsg {
  return {
    type: "snapshot",
    cluster: "c",
    revision,
    machines,
    objects: pods.map((p) => ({ kind: "Pod", group: "", resource: "pods", object: p })),
  };
}

function ev(event: EventMsg["event"], revision: number, object: ReturnType<typeof pod>): EventMsg {
  return {
    type: "event",
    event,
    kind: "Pod",
    group: "",
    resource: "pods",
    namespace: "default",
    name: object.metadata.name,
    uid: object.metadata.uid,
    revision,
    object,
  };
}

describe("reduce", () => {
  it("applies a snapshot, then events in order", () => {
    let s = reduce(emptyState(), [snapshot(10, [pod("a", "u1")])], 0);
    s = reduce(s, [ev("ADDED", 11, pod("b", "u2")), ev("MODIFIED", 12, pod("a", "u1", "worker-1", { status: { phase: "Failed" } }))], 0);
    expect(s.revision).toBe(12);
    expect([...s.objects.keys()].sort()).toEqual(["u1", "u2"]);
    expect(podPhase(s.objects.get("u1")!)).toBe("Failed");
  });

  it("ignores events it has already applied, so a resumed stream never doubles a write", () => {
    const first: Message[] = [snapshot(10, []), ev("ADDED", 11, pod("a", "u1")), ev("ADDED", 12, pod("b", "u2"))];
    const once = reduce(emptyState(), first, 0);
    // The resumed stream repeats revision 12 and goes on.
    const again = reduce(once, [ev("ADDED", 12, pod("b", "u2")), ev("DELETED", 13, pod("a", "u1"))], 0);
    expect(again.revision).toBe(13);
    expect([...again.objects.keys()]).toEqual(["u2"]);
    expect(again.history.get("u2")?.map((h) => h.revision)).toEqual([12]);
  });

  it("does not change the state it was given", () => {
    const s = reduce(emptyState(), [snapshot(1, [pod("a", "u1")])], 0);
    const before = [...s.objects.keys()];
    const slots = new Map(s.slots.get("worker-1"));
    reduce(s, [ev("ADDED", 2, pod("b", "u2")), ev("DELETED", 3, pod("a", "u1"))], 0);
    expect([...s.objects.keys()]).toEqual(before);
    expect(s.slots.get("worker-1")).toEqual(slots);
  });

  it("keeps a pod's slot while it lives and reuses the lowest free one", () => {
    let s = reduce(emptyState(), [snapshot(1, [pod("a", "u1"), pod("b", "u2"), pod("c", "u3")])], 0);
    const slot = (uid: string) => s.slots.get("worker-1")!.get(uid);
    expect([slot("u1"), slot("u2"), slot("u3")]).toEqual([0, 1, 2]);
    s = reduce(s, [ev("DELETED", 2, pod("b", "u2")), ev("ADDED", 3, pod("d", "u4"))], 0);
    expect([slot("u1"), slot("u3"), slot("u4")]).toEqual([0, 2, 1]);
    // A fresh snapshot (after a compaction) keeps the surviving pods where they were.
    s = reduce(s, [snapshot(50, [pod("c", "u3"), pod("d", "u4")])], 0);
    expect([slot("u3"), slot("u4")]).toEqual([2, 1]);
    expect(s.objects.has("u1")).toBe(false);
  });

  it("moves a tile when the scheduler binds the pod", () => {
    let s = reduce(emptyState(), [snapshot(1, [pod("a", "u1", "")])], 0);
    expect(s.slots.size).toBe(0);
    s = reduce(s, [ev("MODIFIED", 2, pod("a", "u1", "worker-1"))], 0);
    expect(s.slots.get("worker-1")?.get("u1")).toBe(0);
  });

  it("names the writer of each revision from the request traces, and keeps Events out", () => {
    const s = reduce(
      emptyState(),
      [
        snapshot(1, []),
        { type: "request", component: "kube-scheduler", verb: "create", resource: "pods", subresource: "binding", namespace: "default", name: "a", code: 201, latency: 2, revision: 2 },
        { ...ev("ADDED", 3, pod("e", "ev1")), kind: "Event", resource: "events" },
      ],
      0,
    );
    expect(s.writers.get(2)).toBe("kube-scheduler");
    expect(s.objects.size).toBe(0);
  });

  it("follows ownerReferences from a Deployment down to its pods", () => {
    const owned = (kind: string, name: string, uid: string, owner: string) => ({
      kind: "Event",
      group: kind === "Pod" ? "" : "apps",
      resource: kind === "Pod" ? "pods" : kind.toLowerCase() + "s",
      object: { kind, metadata: { name, namespace: "default", uid, ownerReferences: owner ? [{ kind: "X", name: "x", uid: owner }] : [] } },
    });
    const msg: SnapshotMsg = {
      type: "snapshot",
      cluster: "c",
      revision: 1,
      machines,
      objects: [owned("Deployment", "web", "d", ""), owned("ReplicaSet", "web-1", "r", "d"), owned("Pod", "web-1-a", "p", "r"), owned("Pod", "other", "q", "")].map((o) => ({ ...o, kind: o.object.kind })),
    };
    const s = reduce(emptyState(), [msg], 0);
    expect([...descendants(s, "d")].sort()).toEqual(["d", "p", "r"]);
  });
});

describe("scheduling decisions", () => {
  it("keeps the latest attempts, newest last, within a bound", async () => {
    const { DECISIONS_KEPT } = await import("./cluster");
    const decision = (i: number) => ({
      type: "scheduling" as const, pod: { namespace: "default", name: `p${i}` }, time: "", attempt: 1,
      selectedNode: "worker-1", bound: true, message: "", nodesEvaluated: 2, feasibleNodes: 2,
      rejected: {}, rejectedCount: 0, totals: { "worker-1": 100 },
    }); // prettier-ignore
    const s = reduce(emptyState(), Array.from({ length: DECISIONS_KEPT + 5 }, (_, i) => decision(i)), 0);
    expect(s.decisions).toHaveLength(DECISIONS_KEPT);
    expect(s.decisions[s.decisions.length - 1].pod.name).toBe(`p${DECISIONS_KEPT + 4}`);
  });
});

describe("the journal", () => {
  it("is shared by the states of one page, appended in place, and bounded", async () => {
    const { REQUESTS_KEPT } = await import("./cluster");
    const req = (i: number) => ({
      type: "request" as const, component: "kubelet", client: "worker-1", verb: "patch", resource: "pods",
      subresource: "status", namespace: "default", name: `p${i}`, code: 200, latency: 1, revision: i,
    }); // prettier-ignore
    const a = reduce(emptyState(), [req(1)], 0);
    const b = reduce(a, Array.from({ length: REQUESTS_KEPT + 10 }, (_, i) => req(i + 2)), 0);
    expect(b.requests).toBe(a.requests); // not copied per batch
    expect(b.requests).toHaveLength(REQUESTS_KEPT);
    expect(b.writers.get(REQUESTS_KEPT + 11)).toBe("kubelet (worker-1)");
  });
});
