// Actions on objects, from the inspector and the workloads list: edit, scale, restart a rollout,
// delete with a choice of what happens to the dependents.  Each is one request as kubeviz-web.

import { getObject, objectPath } from "../api/rest";
import { act, type ObjectRef } from "../api/web";
import { toYaml } from "../editor/documents";
import type { ClusterState, StoredObject } from "../store/cluster";
import { h } from "./dom";

export const WORKLOADS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];
const SCALABLE = new Set(["Deployment", "StatefulSet", "ReplicaSet"]);
const RESTARTABLE = new Set(["Deployment", "StatefulSet", "DaemonSet"]);
const PROPAGATION: [string, string][] = [
  ["Background", "Background: delete it now; the garbage collector removes what it owns"],
  ["Foreground", "Foreground: delete what it owns first, then it"],
  ["Orphan", "Orphan: keep what it owns, without an owner"],
];

interface Config {
  cluster: string;
  editable: boolean;
  edit: (yaml: string, title: string) => void;
}
let config: Config | null = null;

export function configureActions(c: Config): void {
  config = c;
}

function refOf(o: StoredObject): ObjectRef {
  return { apiVersion: o.object.apiVersion ?? (o.group ? `${o.group}/v1` : "v1"), kind: o.kind, namespace: o.namespace, name: o.name };
}

/** The object a pod's owner chain leads up to (ReplicaSet → Deployment), or the pod itself. */
export function topOwner(state: ClusterState, o: StoredObject): StoredObject {
  let current = o;
  for (let i = 0; i < 5; i++) {
    const ref = current.object.metadata.ownerReferences?.find((r) => r.controller) ?? current.object.metadata.ownerReferences?.[0];
    const owner = ref ? state.objects.get(ref.uid) : undefined;
    if (!owner) return current;
    current = owner;
  }
  return current;
}

function editable(o: object): string {
  const copy = structuredClone(o) as { metadata?: Record<string, unknown>; status?: unknown };
  delete copy.status;
  if (copy.metadata) delete copy.metadata.managedFields;
  return toYaml([copy]);
}

export function objectActions(o: StoredObject): HTMLElement {
  const box = h("div", { class: "actions", "data-object": `${o.kind}/${o.namespace}/${o.name}` });
  if (!config || !config.editable) {
    box.append(h("p", { class: "muted" }, "View only: this link cannot change the cluster."));
    return box;
  }
  const { cluster, edit } = config;
  const out = h("p", { class: "action-result", role: "status" });
  const run = async (p: Promise<{ ok: boolean; body: any }>, done: string) => {
    const { ok, body } = await p;
    out.className = ok ? "action-result ok" : "action-result error";
    out.textContent = ok ? done : body?.message ?? "failed";
  };
  const ref = refOf(o);
  const editBtn = h("button", { type: "button", "data-action": "edit" }, "Edit");
  editBtn.addEventListener("click", async () => edit(editable(await getObject(objectPath(cluster, o))), `Edit ${o.kind} ${o.namespace}/${o.name}`));
  box.append(editBtn);
  if (SCALABLE.has(o.kind)) {
    const current = (o.object.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    const n = h("input", { type: "number", min: "0", max: "1000", value: String(current), "aria-label": `Replicas of ${o.name}`, "data-action": "replicas" }) as HTMLInputElement;
    const scale = h("button", { type: "button", "data-action": "scale" }, "Scale");
    scale.addEventListener("click", () => void run(act(cluster, ref, "scale", { replicas: Number(n.value) }), `scaled to ${n.value}`));
    box.append(n, scale);
  }
  if (RESTARTABLE.has(o.kind)) {
    const restart = h("button", { type: "button", "data-action": "restart" }, "Restart rollout");
    restart.addEventListener("click", () => void run(act(cluster, ref, "restart"), "rollout restarted: new pods replace the old ones"));
    box.append(restart);
  }
  const policy = h("select", { "aria-label": "What happens to what it owns", "data-action": "propagation" }, ...PROPAGATION.map(([v, t]) => h("option", { value: v }, t))) as HTMLSelectElement;
  const del = h("button", { type: "button", class: "danger", "data-action": "delete" }, "Delete");
  del.addEventListener("click", () => {
    if (!window.confirm(`Delete ${o.kind} ${o.namespace}/${o.name}?`)) return;
    void run(act(cluster, ref, "delete", { propagationPolicy: policy.value }), "deleted");
  });
  box.append(policy, del, out);
  return box;
}

let shownKey: string | null = null;

/** The list of workloads with their actions; redrawn only when the set of workloads changes. */
export function renderWorkloads(host: HTMLElement, state: ClusterState): void {
  const items = [...state.objects.values()].filter((o) => WORKLOADS.includes(o.kind) && !o.namespace.startsWith("kube-")).sort((a, b) => `${a.kind}${a.namespace}${a.name}`.localeCompare(`${b.kind}${b.namespace}${b.name}`));
  const key = items.map((o) => o.uid).join(",");
  if (key === shownKey) return;
  shownKey = key;
  if (!items.length) {
    host.replaceChildren(h("p", { class: "muted" }, config?.editable === false ? "No workloads yet. View only: this link cannot change the cluster." : "No workloads yet. Use Create to make one."));
    return;
  }
  host.replaceChildren(...items.map((o) => h("div", { class: "workload" }, h("h4", {}, `${o.kind} ${o.namespace}/${o.name}`), objectActions(o))));
}
