// The few REST calls the canvas makes: the Kubernetes API for one object's YAML and events,
// and the explorer API for machines.

import type { ApiObject } from "./types";

const CORE_GROUP = "";

export function objectPath(cluster: string, o: { group: string; resource: string; namespace?: string; name: string }): string {
  const base = o.group === CORE_GROUP ? `/api/v1` : `/apis/${o.group}/${versionOf(o.group)}`;
  const ns = o.namespace ? `/namespaces/${encodeURIComponent(o.namespace)}` : "";
  return `/k8s/${encodeURIComponent(cluster)}${base}${ns}/${o.resource}/${encodeURIComponent(o.name)}`;
}

function versionOf(group: string): string {
  return group === "autoscaling" ? "v2" : "v1";
}

async function json<T>(resp: Response): Promise<T> {
  const body = await resp.json();
  if (!resp.ok) throw new Error(body?.message ?? `${resp.status} ${resp.statusText}`);
  return body as T;
}

export async function getObject(path: string): Promise<ApiObject> {
  return json<ApiObject>(await fetch(path));
}

export async function eventsFor(cluster: string, uid: string): Promise<ApiObject[]> {
  const selector = encodeURIComponent(`involvedObject.uid=${uid}`);
  const body = await json<{ items: ApiObject[] }>(
    await fetch(`/k8s/${encodeURIComponent(cluster)}/api/v1/events?fieldSelector=${selector}`),
  );
  return body.items;
}

export async function setMachine(cluster: string, machine: string, running: boolean): Promise<void> {
  await json(
    await fetch(`/api/clusters/${encodeURIComponent(cluster)}/machines/${encodeURIComponent(machine)}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ running }),
    }),
  );
}
