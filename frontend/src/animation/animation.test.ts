import { describe, expect, it } from "vitest";
import type { Message, SnapshotMsg } from "../api/types";
import { layout } from "../scene/layout";
import { emptyState, reduce } from "../store/cluster";
import { HOP_MS, hopsFor, indexScene } from "./flows";
import { MAX_PACKETS, launch, newPackets, positions } from "./packets";
import { advance, arrive, MAX_PENDING, newPlayer, setSpeed } from "./player";

const idle = (revision: number): Message => ({ type: "idle", revision });

describe("player", () => {
  it("releases everything at once when live", () => {
    const p = newPlayer(0);
    arrive(p, { at: 10, messages: [idle(1)] });
    arrive(p, { at: 20, messages: [idle(2)] });
    expect(advance(p, 25, 16).animate).toHaveLength(2);
  });

  it("paces real arrival gaps in slow motion and holds everything while paused", () => {
    const p = newPlayer(0);
    setSpeed(p, 0.5, 0);
    arrive(p, { at: 0, messages: [idle(1)] });
    arrive(p, { at: 100, messages: [idle(2)] });
    expect(advance(p, 16, 16).animate).toHaveLength(1); // the first is due at once
    // 100 ms of real gap takes 200 ms at half speed.
    expect(advance(p, 150, 134).animate).toHaveLength(0);
    p.paused = true;
    expect(advance(p, 400, 250).animate).toHaveLength(0);
    p.paused = false;
    expect(advance(p, 450, 50).animate).toHaveLength(1);
  });

  it("never reorders, and past its bound applies the oldest without drawing them", () => {
    const p = newPlayer(0);
    setSpeed(p, 0.25, 0);
    for (let i = 0; i < MAX_PENDING + 3; i++) arrive(p, { at: i, messages: [idle(i)] });
    const out = advance(p, 1, 1);
    expect(out.skipped).toHaveLength(3);
    expect(out.skipped.map((a) => (a.messages[0] as { revision: number }).revision)).toEqual([0, 1, 2]);
    expect(p.pending).toHaveLength(MAX_PENDING - out.animate.length);
  });
});

function cluster() {
  const comps = (names: string[]) => names.map((name) => ({ name, running: true }));
  const snap: SnapshotMsg = {
    type: "snapshot",
    cluster: "c",
    revision: 1,
    machines: [
      { name: "master-1", role: "master", running: true, components: comps(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "flanneld"]) },
      { name: "master-2", role: "master", running: true, components: comps(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "flanneld"]) },
      { name: "worker-1", role: "worker", running: true, components: comps(["kubelet", "kube-proxy", "flanneld", "coredns"]) },
      { name: "worker-2", role: "worker", running: true, components: comps(["kubelet", "kube-proxy", "flanneld"]) },
    ],
    objects: [],
  };
  return indexScene(layout(reduce(emptyState(), [snap], 0)));
}

describe("flows", () => {
  it("draws a write as a request to kube-apiserver, a pulse into etcd, and replication", () => {
    const hops = hopsFor(cluster(), { type: "request", component: "kube-scheduler", verb: "create", resource: "pods", subresource: "binding", namespace: "default", name: "a", code: 201, latency: 3, revision: 7 });
    expect(hops.map((h) => h.style)).toEqual(["request", "write", "replicate"]);
    expect(hops[0].edge).toMatch(/^component:master-\d\/kube-scheduler>component:master-\d\/kube-apiserver$/);
  });

  it("draws a failed request differently, and a read without etcd", () => {
    const ix = cluster();
    const failed = hopsFor(ix, { type: "request", component: "kubectl", verb: "create", resource: "pods", subresource: "", namespace: "default", name: "", code: 422, latency: 1, revision: null });
    expect(failed.map((h) => h.style)).toEqual(["failed"]);
    const read = hopsFor(ix, { type: "request", component: "kubectl", verb: "list", resource: "pods", subresource: "", namespace: "", name: "", code: 200, latency: 1, revision: null });
    expect(read.map((h) => h.style)).toEqual(["request"]);
  });

  it("draws a watch event to exactly the watches the apiserver says it reached", () => {
    const hops = hopsFor(cluster(), {
      type: "delivered",
      revision: 9,
      watchers: ["kubelet/worker-2", "kube-scheduler/scheduler", "kube-controller-manager/replicaset", "kube-controller-manager/deployment", "kubectl"],
    });
    const to = hops.map((h) => h.edge.split(">")[1]).sort();
    expect(to.filter((t) => t.endsWith("/kubelet"))).toEqual(["component:worker-2/kubelet"]);
    expect(to.filter((t) => t.endsWith("/kube-scheduler"))).toHaveLength(1);
    expect(to.filter((t) => t.endsWith("/kube-controller-manager"))).toHaveLength(1); // one box, drawn once
    expect(to).toContain("clients"); // kubectl is outside the cluster
    expect(hops.every((h) => h.style === "watch")).toBe(true);
  });

  it("draws nothing for an event until its deliveries are known", () => {
    const hops = hopsFor(cluster(), {
      type: "event", event: "MODIFIED", kind: "Pod", group: "", resource: "pods", namespace: "default", name: "a", uid: "u", revision: 9,
      object: { kind: "Pod", metadata: { name: "a", uid: "u" }, spec: { nodeName: "worker-2" } },
    }); // prettier-ignore
    expect(hops).toEqual([]);
  });
});

describe("packets", () => {
  it("moves each packet from its source to its target over one hop time, then drops it", () => {
    const s = newPackets();
    launch(s, [{ from: { x: 0, y: 0 }, to: { x: 100, y: 0 }, style: "request", delay: 0, edge: "a>b", about: [] }], 0);
    expect(positions(s, HOP_MS / 2)[0].x).toBeCloseTo(50);
    expect(positions(s, HOP_MS + 1)).toHaveLength(0);
    expect(s.packets.size).toBe(0);
  });

  it("aggregates hops into flow rates past the packet limit", () => {
    const s = newPackets();
    const hop = { from: { x: 0, y: 0 }, to: { x: 1, y: 1 }, style: "watch" as const, delay: 0, edge: "x>y", about: [] };
    launch(s, Array.from({ length: MAX_PACKETS + 50 }, () => hop), 0);
    expect(s.packets.size).toBe(MAX_PACKETS);
    expect(s.flows.get("x>y")?.rate).toBeCloseTo(50);
  });
});
