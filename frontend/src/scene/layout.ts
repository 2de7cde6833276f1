// Pure layout: cluster state in, positions out.  Nothing here draws or keeps state.
//
// The Figure-1 shape: masters in a band on top (kube-apiserver, the hub, is on each), workers
// in a band below.  Every size is fixed and every position depends only on a machine's index
// and a pod's slot, so adding a pod, a machine or an object never moves what is already drawn.

import type { Machine } from "../api/types";
import { type ClusterState, nodeReady, podPhase, type StoredObject } from "../store/cluster";

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface MachineBox extends Rect {
  kind: "machine";
  id: string; // machine:<name>
  name: string;
  role: "master" | "worker";
  running: boolean;
  /** The Node's Ready condition: true, false, or null when the Node is unknown. */
  ready: boolean | null;
  status: string;
}

export interface ComponentBox extends Rect {
  kind: "component";
  id: string; // component:<machine>/<name>
  machine: string;
  name: string;
  running: boolean;
  status: string;
}

export interface PodTile extends Rect {
  kind: "pod";
  id: string; // pod:<uid>
  uid: string;
  node: string;
  namespace: string;
  name: string;
  phase: string;
  slot: number;
  status: string;
}

export interface Scene {
  machines: MachineBox[];
  components: ComponentBox[];
  pods: PodTile[];
  width: number;
  height: number;
}

export type Item = MachineBox | ComponentBox | PodTile;

export interface LayoutOptions {
  /** Show only pods of this namespace ("" for all). */
  namespace?: string;
}

export const TILE = 12;
export const TILE_GAP = 3;
export const POD_COLUMNS = 11;
export const POD_ROWS = 10; // 110 pods, a kubelet's default maxPods
export const MACHINE_W = POD_COLUMNS * (TILE + TILE_GAP) - TILE_GAP + 24;
export const HEADER_H = 24;
export const ROW_H = 18;
export const ROW_GAP = 3;
export const MACHINE_GAP = 28;
export const BAND_GAP = 90;
export const WORKER_COLUMNS = 8;
export const MARGIN = 20;

/** Components every node has besides the ones the explorer API lists: the runtime and CNI. */
export const NODE_LOCAL = ["containerd", "cni"];

const MASTER_ORDER = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
const NODE_ORDER = ["kubelet", "kube-proxy", "flanneld", "calico-felix", "cilium-agent", "coredns"];

function rank(name: string): number {
  const m = MASTER_ORDER.indexOf(name);
  if (m >= 0) return m;
  const n = NODE_ORDER.indexOf(name);
  return n >= 0 ? 10 + n : 20;
}

/** The component rows of a machine, in a fixed order. */
export function componentNames(m: Machine): string[] {
  const listed = m.components.map((c) => c.name).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  return [...listed, ...NODE_LOCAL];
}

/** Rows reserved for components: the most any machine of that role can have, so all align. */
function componentRows(role: "master" | "worker"): number {
  return role === "master" ? MASTER_ORDER.length + 4 + NODE_LOCAL.length : 4 + NODE_LOCAL.length;
}

export function machineHeight(role: "master" | "worker"): number {
  const rows = componentRows(role);
  return HEADER_H + rows * (ROW_H + ROW_GAP) + 8 + POD_ROWS * (TILE + TILE_GAP) + 12;
}

function index(name: string): number {
  const m = /-(\d+)$/.exec(name);
  return m ? Number(m[1]) - 1 : 0;
}

export function machinePosition(role: "master" | "worker", i: number): { x: number; y: number } {
  const col = role === "master" ? i : i % WORKER_COLUMNS;
  const row = role === "master" ? 0 : Math.floor(i / WORKER_COLUMNS);
  const top = role === "master" ? MARGIN : MARGIN + machineHeight("master") + BAND_GAP;
  return { x: MARGIN + col * (MACHINE_W + MACHINE_GAP), y: top + row * (machineHeight("worker") + MACHINE_GAP) };
}

export function podPosition(box: Rect, role: "master" | "worker", slot: number): { x: number; y: number } {
  const top = box.y + HEADER_H + componentRows(role) * (ROW_H + ROW_GAP) + 8;
  const col = slot % POD_COLUMNS;
  const row = Math.floor(slot / POD_COLUMNS);
  return { x: box.x + 12 + col * (TILE + TILE_GAP), y: top + row * (TILE + TILE_GAP) };
}

function nodesByName(state: ClusterState): Map<string, StoredObject> {
  const out = new Map<string, StoredObject>();
  for (const o of state.objects.values()) if (o.kind === "Node") out.set(o.name, o);
  return out;
}

function machineStatus(m: Machine, ready: boolean | null): string {
  const node = ready === null ? "no Node yet" : ready ? "Ready" : "NotReady";
  return m.running ? node : `powered off, ${node}`;
}

export function layout(state: ClusterState, opts: LayoutOptions = {}): Scene {
  const nodes = nodesByName(state);
  const machines: MachineBox[] = [];
  const components: ComponentBox[] = [];
  const pods: PodTile[] = [];
  const boxes = new Map<string, MachineBox>();
  let width = 0;
  let height = 0;
  for (const m of state.machines) {
    const { x, y } = machinePosition(m.role, index(m.name));
    const ready = nodeReady(nodes.get(m.name));
    const box: MachineBox = {
      kind: "machine",
      id: `machine:${m.name}`,
      name: m.name,
      role: m.role,
      running: m.running,
      ready,
      status: machineStatus(m, ready),
      x,
      y,
      w: MACHINE_W,
      h: machineHeight(m.role),
    };
    machines.push(box);
    boxes.set(m.name, box);
    width = Math.max(width, x + box.w + MARGIN);
    height = Math.max(height, y + box.h + MARGIN);
    const running = new Map(m.components.map((c) => [c.name, c.running]));
    componentNames(m).forEach((name, row) => {
      const on = running.get(name) ?? (m.running && (m.kubeletRunning ?? true));
      components.push({
        kind: "component",
        id: `component:${m.name}/${name}`,
        machine: m.name,
        name,
        running: on,
        status: on ? "running" : "stopped",
        x: x + 12,
        y: y + HEADER_H + row * (ROW_H + ROW_GAP),
        w: MACHINE_W - 24,
        h: ROW_H,
      });
    });
  }
  const capacity = POD_COLUMNS * POD_ROWS;
  for (const [node, slots] of state.slots) {
    const box = boxes.get(node);
    if (!box) continue;
    for (const [uid, slot] of slots) {
      const o = state.objects.get(uid);
      if (!o || slot >= capacity) continue;
      if (opts.namespace && o.namespace !== opts.namespace) continue;
      const { x, y } = podPosition(box, box.role, slot);
      const phase = podPhase(o);
      pods.push({
        kind: "pod",
        id: `pod:${uid}`,
        uid,
        node,
        namespace: o.namespace,
        name: o.name,
        phase,
        slot,
        status: phase,
        x,
        y,
        w: TILE,
        h: TILE,
      });
    }
  }
  pods.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { machines, components, pods, width, height };
}

/** The topmost item at a point of the world (pods over components over machines). */
export function itemAt(scene: Scene, x: number, y: number): Item | null {
  const inside = (r: Rect) => x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h;
  return scene.pods.find(inside) ?? scene.components.find(inside) ?? scene.machines.find(inside) ?? null;
}

export function centre(r: Rect): { x: number; y: number } {
  return { x: r.x + r.w / 2, y: r.y + r.h / 2 };
}
