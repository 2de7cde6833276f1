// From stream messages to hops across the picture.  Pure: a message and the scene in, hops out.
// Every hop comes from a message the cluster really sent; nothing is invented.

import type { ActionMsg, DeliveredMsg, Message, RequestMsg } from "../api/types";
import { type ComponentBox, centre, type PodTile, type Scene } from "../scene/layout";

export type HopStyle = "request" | "failed" | "write" | "replicate" | "watch" | "local";

export interface Hop {
  from: { x: number; y: number };
  to: { x: number; y: number };
  style: HopStyle;
  /** Start offset after the message, in ms of playback time. */
  delay: number;
  /** The edge this hop travels, for aggregation: "<from id>><to id>". */
  edge: string;
  /** uids the hop is about (for "follow this object"). */
  about: string[];
}

export const HOP_MS = 450;

export interface SceneIndex {
  components: Map<string, ComponentBox[]>; // component name -> boxes
  byId: Map<string, ComponentBox>;
  pods: Map<string, PodTile>; // uid -> tile
  podsByName: Map<string, PodTile>; // ns/name -> tile
  client: { x: number; y: number };
}

export function indexScene(scene: Scene): SceneIndex {
  const components = new Map<string, ComponentBox[]>();
  const byId = new Map<string, ComponentBox>();
  for (const c of scene.components) {
    const list = components.get(c.name) ?? [];
    list.push(c);
    components.set(c.name, list);
    byId.set(`${c.machine}/${c.name}`, c);
  }
  const pods = new Map<string, PodTile>();
  const podsByName = new Map<string, PodTile>();
  for (const p of scene.pods) {
    pods.set(p.uid, p);
    podsByName.set(`${p.namespace}/${p.name}`, p);
  }
  const masters = scene.machines.filter((m) => m.role === "master");
  const last = masters[masters.length - 1];
  const client = last ? { x: last.x + last.w + 120, y: last.y + 60 } : { x: 0, y: 0 };
  return { components, byId, pods, podsByName, client };
}

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
  return Math.abs(h);
}

/** The box a request came from: the named machine's component if it has one, else a running one. */
function origin(ix: SceneIndex, component: string, client: string | undefined): ComponentBox | null {
  if (client) {
    const own = ix.byId.get(`${client}/${component}`);
    if (own) return own;
  }
  const boxes = ix.components.get(component) ?? [];
  return boxes.find((b) => b.running) ?? boxes[0] ?? null;
}

/** The kube-apiserver a client talks to: fixed per client, as a load balancer's affinity is. */
function apiserverFor(ix: SceneIndex, key: string): ComponentBox | null {
  const all = (ix.components.get("kube-apiserver") ?? []).filter((b) => b.running);
  const pool = all.length ? all : (ix.components.get("kube-apiserver") ?? []);
  return pool.length ? pool[hash(key) % pool.length] : null;
}

function requestHops(ix: SceneIndex, msg: RequestMsg): Hop[] {
  const src = origin(ix, msg.component, msg.client);
  const from = src ? centre(src) : ix.client;
  const fromId = src ? src.id : "clients";
  const api = apiserverFor(ix, `${msg.component}/${msg.client ?? ""}`);
  if (!api) return [];
  const failed = msg.code >= 400;
  const pod = msg.resource === "pods" ? ix.podsByName.get(`${msg.namespace}/${msg.name}`) : undefined;
  const about = pod ? [pod.uid] : [];
  const hops: Hop[] = [
    { from, to: centre(api), style: failed ? "failed" : "request", delay: 0, edge: `${fromId}>${api.id}`, about },
  ];
  if (!failed && msg.revision !== null && msg.revision !== undefined) {
    const local = ix.byId.get(`${api.machine}/etcd`);
    if (local) {
      hops.push({ from: centre(api), to: centre(local), style: "write", delay: HOP_MS, edge: `${api.id}>${local.id}`, about });
      for (const member of ix.components.get("etcd") ?? []) {
        if (member === local || !member.running) continue;
        hops.push({
          from: centre(local),
          to: centre(member),
          style: "replicate",
          delay: 2 * HOP_MS,
          edge: `${local.id}>${member.id}`,
          about,
        });
      }
    }
  }
  return hops;
}

/** A watch event, drawn to each watch that was really sent it (as the apiserver reported). */
function deliveredHops(ix: SceneIndex, msg: DeliveredMsg): Hop[] {
  const apis = ix.components.get("kube-apiserver") ?? [];
  if (!apis.length) return [];
  const hops: Hop[] = [];
  const seen = new Set<string>();
  for (const watcher of msg.watchers) {
    const [component, instance] = watcher.split("/", 2);
    const box = origin(ix, component, instance);
    const id = box ? box.id : "clients";
    if (seen.has(id)) continue;
    seen.add(id);
    const api = apiserverFor(ix, `${component}/${box?.machine ?? instance ?? ""}`) ?? apis[0];
    hops.push({
      from: centre(api),
      to: box ? centre(box) : ix.client,
      style: "watch",
      delay: 0,
      edge: `${api.id}>${id}`,
      about: [],
    });
  }
  return hops;
}

const RUNTIME_TO_POD = new Set(["StartContainer", "StopContainer", "RunPodSandbox"]);

function actionHops(ix: SceneIndex, msg: ActionMsg): Hop[] {
  const node = msg.node;
  const kubelet = ix.byId.get(`${node}/kubelet`);
  const own = ix.byId.get(`${node}/${msg.component}`);
  if (!own) return [];
  const pod = typeof msg.pod === "string" ? ix.podsByName.get(msg.pod) : undefined; // "<namespace>/<name>"
  const about = pod ? [pod.uid] : [];
  const hops: Hop[] = [];
  if (kubelet && (msg.component === "containerd" || msg.component === "cni")) {
    hops.push({ from: centre(kubelet), to: centre(own), style: "local", delay: 0, edge: `${kubelet.id}>${own.id}`, about });
  }
  if (pod && (RUNTIME_TO_POD.has(msg.action) || msg.component === "cni")) {
    hops.push({ from: centre(own), to: centre(pod), style: "local", delay: HOP_MS, edge: `${own.id}>${pod.id}`, about });
  }
  if (!hops.length) {
    hops.push({ from: centre(own), to: centre(own), style: "local", delay: 0, edge: `${own.id}>${own.id}`, about });
  }
  return hops;
}

/** The hops of one message; ``about`` names the object it concerns when the caller knows it. */
export function hopsFor(ix: SceneIndex, msg: Message, about?: string): Hop[] {
  const hops = hopsOf(ix, msg);
  if (about) for (const hop of hops) if (!hop.about.length) hop.about = [about];
  return hops;
}

function hopsOf(ix: SceneIndex, msg: Message): Hop[] {
  switch (msg.type) {
    case "request":
      return requestHops(ix, msg);
    case "delivered":
      return deliveredHops(ix, msg);
    case "action":
      return actionHops(ix, msg);
    default:
      return [];
  }
}
