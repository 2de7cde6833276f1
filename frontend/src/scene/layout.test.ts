import { describe, expect, it } from "vitest";
import type { Machine, SnapshotMsg } from "../api/types";
import { emptyState, reduce } from "../store/cluster";
import { itemAt, layout } from "./layout";

function machine(name: string, role: "master" | "worker"): Machine {
  const components =
    role === "master"
      ? ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "flanneld"]
      : ["kubelet", "kube-proxy", "flanneld", "coredns"];
  return { name, role, running: true, components: components.map((n) => ({ name: n, running: true })) };
}

function pods(n: number, node: string, offset = 0) {
  return Array.from({ length: n }, (_, i) => ({
    kind: "Pod",
    group: "",
    resource: "pods",
    object: {
      kind: "Pod",
      metadata: { name: `p${i + offset}`, namespace: i % 2 ? "kube-system" : "default", uid: `u${i + offset}`, creationTimestamp: `2026-01-01T00:00:${String(i + offset).padStart(2, "0")}Z` },
      spec: { nodeName: node },
      status: { phase: "Running" },
    },
  }));
}

function state(workers: number, podCount: number) {
  const machines = [machine("master-1", "master"), ...Array.from({ length: workers }, (_, i) => machine(`worker-${i + 1}`, "worker"))];
  const snap: SnapshotMsg = { type: "snapshot", cluster: "c", revision: 1, machines, objects: pods(podCount, "worker-1") };
  return reduce(emptyState(), [snap], 0);
}

describe("layout", () => {
  it("puts masters in a band above the workers, with their components inside", () => {
    const scene = layout(state(3, 0));
    const master = scene.machines.find((m) => m.name === "master-1")!;
    const workers = scene.machines.filter((m) => m.role === "worker");
    for (const w of workers) expect(w.y).toBeGreaterThan(master.y + master.h);
    const etcd = scene.components.find((c) => c.id === "component:master-1/etcd")!;
    expect(etcd.x).toBeGreaterThanOrEqual(master.x);
    expect(etcd.y + etcd.h).toBeLessThanOrEqual(master.y + master.h);
    expect(scene.components.filter((c) => c.machine === "worker-1").map((c) => c.name)).toEqual([
      "kubelet", "kube-proxy", "flanneld", "coredns", "containerd", "cni",
    ]);
  });

  it("is stable: a new pod or a new machine moves nothing already drawn", () => {
    const before = layout(state(2, 5));
    const s = reduce(state(2, 5), [{ type: "event", event: "ADDED", kind: "Pod", group: "", resource: "pods", namespace: "default", name: "new", uid: "new", revision: 2, object: pods(1, "worker-1", 40)[0].object as never }], 0);
    const grown = { ...s, machines: [...s.machines, machine("worker-3", "worker")] };
    const after = layout(grown);
    const where = (sc: typeof before) => new Map([...sc.pods, ...sc.machines, ...sc.components].map((i) => [i.id, [i.x, i.y]]));
    const a = where(after);
    for (const [id, xy] of where(before)) expect(a.get(id)).toEqual(xy);
    expect(after.pods).toHaveLength(6);
  });

  it("is pure: the same state gives the same scene", () => {
    const s = state(2, 7);
    expect(layout(s)).toEqual(layout(s));
  });

  it("filters pods by namespace and finds the item under a point", () => {
    const s = state(1, 6);
    const scene = layout(s, { namespace: "default" });
    expect(scene.pods.map((p) => p.namespace)).toEqual(["default", "default", "default"]);
    const tile = scene.pods[0];
    expect(itemAt(scene, tile.x + 1, tile.y + 1)?.id).toBe(tile.id);
    const kubelet = scene.components.find((c) => c.id === "component:worker-1/kubelet")!;
    expect(itemAt(scene, kubelet.x + 2, kubelet.y + 2)?.id).toBe(kubelet.id);
  });
});
