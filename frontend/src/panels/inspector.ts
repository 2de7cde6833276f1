// The side panel: what the selected component, machine or pod is and what it is doing.

import { eventsFor, getObject, objectPath, setMachine } from "../api/rest";
import { toYaml } from "../api/yaml";
import { WATCHES } from "./watches";
import type { SchedulingMsg } from "../api/types";
import type { ClusterState, StoredObject } from "../store/cluster";
import { h } from "./dom";
import { EXPLAIN } from "./explain";
import { objectActions, topOwner } from "./workloads";

export type Selection =
  | { kind: "component"; machine: string; name: string }
  | { kind: "machine"; name: string }
  | { kind: "pod"; object: StoredObject };

const RATE_WINDOW_MS = 10_000;
const DAEMONS = new Set(["flanneld", "calico-felix", "cilium-agent"]);

let generation = 0;

function section(title: string, ...body: (Node | string)[]): HTMLElement {
  return h("section", {}, h("h3", {}, title), ...body);
}

function requestsOf(state: ClusterState, component: string, machine: string | null) {
  return state.requests.filter(
    (r) => r.component === component && (machine === null || !r.client || r.client === machine),
  );
}

function requestList(state: ClusterState, reqs: ClusterState["requests"]): HTMLElement {
  const list = h("ol", { class: "requests" });
  for (const r of reqs.slice(-12).reverse()) {
    const what = [r.verb, r.resource + (r.subresource ? "/" + r.subresource : ""), r.namespace ? `${r.namespace}/${r.name}` : r.name]
      .filter(Boolean)
      .join(" ");
    const sent = r.revision !== null && r.revision !== undefined ? state.deliveries.get(r.revision) : undefined;
    const watchers = sent ? `, sent to ${sent.length} watch${sent.length === 1 ? "" : "es"}: ${sent.join(", ")}` : "";
    list.append(h("li", { class: r.code >= 400 ? "failed" : "" }, `${what} → ${r.code} (${r.latency.toFixed(1)} ms${watchers})`));
  }
  if (!reqs.length) list.append(h("li", { class: "muted" }, "none seen since this page opened"));
  return list;
}

function later(panel: HTMLElement, title: string, load: () => Promise<Node | string>): HTMLElement {
  const body = h("div", { class: "muted" }, "loading…");
  const mine = generation;
  load()
    .then((content) => {
      if (mine === generation) body.replaceChildren(content);
      body.className = "";
    })
    .catch((err: Error) => {
      if (mine === generation) body.replaceChildren(h("p", { class: "error" }, err.message));
    });
  void panel;
  return section(title, body);
}

interface Loop {
  name: string;
  depth: number;
  processing: number;
  lastReconcile: { key: string; result: string; at: number; seconds: number } | null;
}

function loopTable(loops: Loop[], now: number): HTMLElement {
  const rows = loops.map((l) => {
    const last = l.lastReconcile;
    const when = last ? `${last.key}: ${last.result} ${Math.max(0, Math.round(now / 1000 - last.at))} s ago (${(last.seconds * 1000).toFixed(0)} ms)` : "none yet";
    return h("tr", { "data-controller": l.name }, h("td", {}, l.name), h("td", {}, String(l.depth)), h("td", {}, String(l.processing)), h("td", {}, when));
  });
  return h(
    "table",
    { class: "loops" },
    h("thead", {}, h("tr", {}, h("th", {}, "controller"), h("th", {}, "queued"), h("th", {}, "running"), h("th", {}, "last reconcile"))),
    h("tbody", {}, ...rows),
  );
}

function schedulerQueue(q: { active: number; backoff: number; unschedulable: number; inFlight: number }): HTMLElement {
  return h("p", {}, `${q.active} active, ${q.backoff} backing off, ${q.unschedulable} unschedulable, ${q.inFlight} being scheduled now`);
}

function decisionView(d: SchedulingMsg): HTMLElement {
  const out = h("div", {});
  out.append(
    h("p", {}, d.selectedNode ? `Chose ${d.selectedNode}${d.bound ? " and bound the pod" : ", but the binding failed"}.` : "No node could take it."),
    h("p", { class: "muted" }, `${d.nodesEvaluated} nodes evaluated, ${d.feasibleNodes} feasible. ${d.message}`),
  );
  const totals = Object.entries(d.totals);
  if (totals.length) {
    const list = h("ol", {});
    for (const [node, score] of totals) list.append(h("li", {}, `${node}: score ${score}`));
    out.append(h("h4", {}, "Best scores"), list);
  }
  const rejected = Object.entries(d.rejected);
  if (rejected.length) {
    const list = h("ul", {});
    for (const [node, plugins] of rejected) list.append(h("li", {}, `${node}: rejected by ${plugins.join(", ")}`));
    const more = d.rejectedCount - rejected.length;
    if (more > 0) list.append(h("li", { class: "muted" }, `and ${more} more nodes`));
    out.append(h("h4", {}, "Filtered out"), list);
  }
  return out;
}

function slim(obj: object): object {
  const o = structuredClone(obj) as { metadata?: { managedFields?: unknown } };
  if (o.metadata) delete o.metadata.managedFields;
  return o;
}

export function renderInspector(panel: HTMLElement, state: ClusterState, sel: Selection | null, now: number): void {
  generation++;
  panel.replaceChildren();
  if (!sel) {
    panel.append(h("p", { class: "muted" }, "Click a component, a machine or a pod to see what it does."));
    return;
  }
  const cluster = state.cluster;
  if (sel.kind === "component") {
    const reqs = requestsOf(state, sel.name, sel.name === "kubelet" || DAEMONS.has(sel.name) || sel.name === "kube-proxy" ? sel.machine : null);
    const recent = reqs.filter((r) => now - r.at <= RATE_WINDOW_MS).length;
    panel.append(
      h("h2", {}, `${sel.name} on ${sel.machine}`),
      h("p", {}, EXPLAIN[sel.name] ?? ""),
      section("Watches", (WATCHES[sel.name] ?? []).join(", ") || "nothing through the API"),
      section("Request rate", `${(recent / (RATE_WINDOW_MS / 1000)).toFixed(1)} requests/s over the last 10 s`),
    );
    if (sel.name === "kube-controller-manager" || sel.name === "kube-scheduler") {
      panel.append(
        later(panel, sel.name === "kube-scheduler" ? "Scheduling queue" : "Control loops", async () => {
          const resp = await fetch(`/api/clusters/${encodeURIComponent(cluster)}/controllers`);
          const body = await resp.json();
          if (!resp.ok) throw new Error(body.message ?? "not available");
          return sel.name === "kube-scheduler" ? schedulerQueue(body.scheduler) : loopTable(body.items, now);
        }),
      );
    }
    if (sel.name === "kube-scheduler") {
      const last = state.decisions[state.decisions.length - 1];
      if (last) panel.append(section(`Last decision: ${last.pod.namespace}/${last.pod.name}`, decisionView(last)));
    }
    if (sel.name === "kube-proxy") {
      panel.append(
        later(panel, "Rules", async () => {
          const resp = await fetch(`/api/clusters/${encodeURIComponent(cluster)}/machines/${encodeURIComponent(sel.machine)}/proxy-rules`);
          const body = await resp.json();
          return h("pre", {}, body.text || (body.synced ? "(no rules)" : "not synced yet"));
        }),
      );
    }
    if (DAEMONS.has(sel.name)) {
      panel.append(
        later(panel, "Routes", async () => {
          const resp = await fetch(`/api/clusters/${encodeURIComponent(cluster)}/machines/${encodeURIComponent(sel.machine)}/routes`);
          const body = await resp.json();
          return h("pre", {}, toYaml(body.routes ?? []));
        }),
      );
    }
    panel.append(section("Recent requests", requestList(state, reqs)));
    return;
  }
  if (sel.kind === "machine") {
    const machine = state.machines.find((m) => m.name === sel.name);
    const node = [...state.objects.values()].find((o) => o.kind === "Node" && o.name === sel.name);
    const power = h("button", { type: "button", "data-action": "power" }, machine?.running ? "Power off" : "Power on");
    power.addEventListener("click", () => {
      power.setAttribute("disabled", "");
      setMachine(cluster, sel.name, !machine?.running).catch((e: Error) => power.after(h("p", { class: "error" }, e.message)));
    });
    panel.append(h("h2", {}, `${sel.name} (${machine?.role ?? "machine"})`), power);
    if (node) objectSections(panel, state, node);
    return;
  }
  panel.append(h("h2", {}, `Pod ${sel.object.namespace}/${sel.object.name}`));
  const owner = topOwner(state, sel.object);
  if (owner !== sel.object) panel.append(section(`${owner.kind} ${owner.name}`, objectActions(owner)));
  panel.append(section("This pod", objectActions(sel.object)));
  objectSections(panel, state, sel.object);
}

function objectSections(panel: HTMLElement, state: ClusterState, o: StoredObject): void {
  const history = state.history.get(o.uid) ?? [];
  const rows = h("ol", { class: "history" });
  for (const entry of [...history].reverse()) {
    rows.append(h("li", {}, `revision ${entry.revision}: ${entry.event} by ${state.writers.get(entry.revision) ?? "(not seen)"}`));
  }
  if (!history.length) rows.append(h("li", { class: "muted" }, `revision ${o.revision} (before this page opened)`));
  panel.append(section("Revision history", rows));
  panel.append(
    later(panel, "Events", async () => {
      const events = await eventsFor(state.cluster, o.uid);
      const list = h("ol", { class: "events" });
      for (const e of events.slice(-20)) {
        const ev = e as unknown as { type?: string; reason?: string; message?: string; count?: number; source?: { component?: string } };
        list.append(h("li", { class: ev.type === "Warning" ? "failed" : "" }, `${ev.reason ?? ""}: ${ev.message ?? ""}${ev.count && ev.count > 1 ? ` (×${ev.count})` : ""} — ${ev.source?.component ?? ""}`));
      }
      if (!events.length) list.append(h("li", { class: "muted" }, "no events"));
      return list;
    }),
  );
  panel.append(
    later(panel, "YAML", async () => h("pre", { class: "yaml" }, toYaml(slim(await getObject(objectPath(state.cluster, o)))))),
  );
}
