// The cluster as the browser knows it: plain reducers over stream messages, keyed by uid.
//
// `reduce` is pure for the cluster's state: it returns a new state and never changes the
// objects, slots or history of the one it was given (maps are copied once per batch, on first
// write).  It applies each write exactly once: an event at or below the state's revision is a
// duplicate (a resumed stream can overlap) and is ignored.
//
// `writers`, `deliveries` and `requests` are different: they are a bounded journal of what
// the page has seen, shared by every state reduced from the same empty state and appended to
// in place.  Copying them per batch cost more than the rest of the reduce, and every timeline
// checkpoint would have held its own copy.

import type { ApiObject, EventMsg, Machine, Message, RequestMsg, SchedulingMsg, SnapshotMsg } from "../api/types";

export interface StoredObject {
  uid: string;
  kind: string;
  group: string;
  resource: string;
  namespace: string;
  name: string;
  revision: number;
  object: ApiObject;
}

export interface HistoryEntry {
  revision: number;
  event: string;
}

export interface TracedRequest extends RequestMsg {
  at: number;
}

export interface ClusterState {
  cluster: string;
  /** The last store revision applied; the stream resumes after it. 0 before the snapshot. */
  revision: number;
  objects: Map<string, StoredObject>;
  machines: Machine[];
  /** Each node's pods and the tile slot each holds; a pod keeps its slot while it lives. */
  slots: Map<string, Map<string, number>>;
  history: Map<string, HistoryEntry[]>;
  /** Which component wrote a revision, from the request traces. */
  writers: Map<number, string>;
  /** Which watchers were sent the event of a revision. */
  deliveries: Map<number, string[]>;
  requests: TracedRequest[];
  /** kube-scheduler's latest attempts, newest last. */
  decisions: SchedulingMsg[];
  coalesced: number;
  dropped: number;
}

export const DECISIONS_KEPT = 50;

export const HISTORY_KEPT = 20;
export const WRITERS_KEPT = 20_000;
export const REQUESTS_KEPT = 2_000;

export function emptyState(cluster = ""): ClusterState {
  return {
    cluster,
    revision: 0,
    objects: new Map(),
    machines: [],
    slots: new Map(),
    history: new Map(),
    writers: new Map(),
    deliveries: new Map(),
    requests: [],
    decisions: [],
    coalesced: 0,
    dropped: 0,
  };
}

/** Events are kept out of the state: panels ask the API for them, so memory stays bounded. */
function kept(kind: string, group: string): boolean {
  return !(kind === "Event" && (group === "" || group === "events.k8s.io"));
}

function nodeOf(o: StoredObject | undefined): string {
  return o && o.kind === "Pod" && o.group === "" ? (o.object.spec?.nodeName ?? "") : "";
}

class Draft {
  objects: Map<string, StoredObject>;
  slots: Map<string, Map<string, number>>;
  history: Map<string, HistoryEntry[]>;
  writers: Map<number, string>;
  deliveries: Map<number, string[]>;
  requests: TracedRequest[];
  private copied = new Set<string>();
  private copiedNodes = new Set<string>();

  constructor(readonly base: ClusterState) {
    this.objects = base.objects;
    this.slots = base.slots;
    this.history = base.history;
    this.writers = base.writers;
    this.deliveries = base.deliveries;
    this.requests = base.requests;
  }

  private own(name: "objects" | "slots" | "history"): void {
    if (this.copied.has(name)) return;
    this.copied.add(name);
    (this as any)[name] = new Map((this as any)[name]); // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  put(o: StoredObject): void {
    this.own("objects");
    const before = this.objects.get(o.uid);
    this.objects.set(o.uid, o);
    this.place(o.uid, nodeOf(before), nodeOf(o));
  }

  remove(uid: string): void {
    const before = this.objects.get(uid);
    if (!before) return;
    this.own("objects");
    this.objects.delete(uid);
    this.place(uid, nodeOf(before), "");
    this.own("history");
    this.history.delete(uid);
  }

  private node(name: string): Map<string, number> {
    this.own("slots");
    if (!this.copiedNodes.has(name)) {
      this.copiedNodes.add(name);
      this.slots.set(name, new Map(this.slots.get(name) ?? []));
    }
    return this.slots.get(name)!;
  }

  /** Move a pod's tile between nodes; a new tile takes the lowest free slot. */
  place(uid: string, from: string, to: string): void {
    if (from === to) return;
    if (from) {
      const slots = this.node(from);
      slots.delete(uid);
      if (slots.size === 0) this.slots.delete(from);
    }
    if (to) {
      const slots = this.node(to);
      const used = new Set(slots.values());
      let slot = 0;
      while (used.has(slot)) slot++;
      slots.set(uid, slot);
    }
  }

  record(uid: string, entry: HistoryEntry): void {
    this.own("history");
    const list = (this.history.get(uid) ?? []).concat(entry);
    this.history.set(uid, list.length > HISTORY_KEPT ? list.slice(-HISTORY_KEPT) : list);
  }

  deliver(revision: number, watchers: string[]): void {
    const known = this.deliveries.get(revision) ?? [];
    this.deliveries.set(revision, [...new Set([...known, ...watchers])]);
    if (this.deliveries.size > WRITERS_KEPT) this.deliveries.delete(this.deliveries.keys().next().value as number);
  }

  request(r: TracedRequest): void {
    this.requests.push(r);
    if (this.requests.length > REQUESTS_KEPT) this.requests.splice(0, this.requests.length - REQUESTS_KEPT);
    if (r.revision !== null && r.revision !== undefined) {
      this.writers.set(r.revision, r.client ? `${r.component} (${r.client})` : r.component);
      if (this.writers.size > WRITERS_KEPT) {
        const oldest = this.writers.keys().next().value as number;
        this.writers.delete(oldest);
      }
    }
  }
}

function stored(kind: string, group: string, resource: string, object: ApiObject, revision: number): StoredObject {
  const meta = object.metadata ?? ({} as ApiObject["metadata"]);
  return {
    uid: meta.uid,
    kind,
    group,
    resource,
    namespace: meta.namespace ?? "",
    name: meta.name,
    revision,
    object,
  };
}

function applySnapshot(state: ClusterState, draft: Draft, msg: SnapshotMsg): void {
  // A snapshot replaces the objects; pods still on the same node keep their tiles.
  const incoming = new Map<string, StoredObject>();
  for (const o of msg.objects) {
    if (!kept(o.kind, o.group) || !o.object.metadata?.uid) continue;
    const rv = Number(o.object.metadata.resourceVersion ?? msg.revision);
    incoming.set(o.object.metadata.uid, stored(o.kind, o.group, o.resource, o.object, rv));
  }
  for (const uid of [...draft.objects.keys()]) {
    if (!incoming.has(uid)) draft.remove(uid);
  }
  const ordered = [...incoming.values()].sort(byCreation);
  for (const o of ordered) draft.put(o);
  void state;
}

function byCreation(a: StoredObject, b: StoredObject): number {
  const ta = a.object.metadata.creationTimestamp ?? "";
  const tb = b.object.metadata.creationTimestamp ?? "";
  return ta < tb ? -1 : ta > tb ? 1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;
}

function applyEvent(draft: Draft, msg: EventMsg): void {
  if (!kept(msg.kind, msg.group) || !msg.uid) return;
  if (msg.event === "DELETED") {
    draft.remove(msg.uid);
    return;
  }
  draft.put(stored(msg.kind, msg.group, msg.resource, msg.object, msg.revision));
  draft.record(msg.uid, { revision: msg.revision, event: msg.event });
}

/** Apply a batch of stream messages; `now` (ms) stamps request traces. */
export function reduce(state: ClusterState, messages: Message[], now: number): ClusterState {
  const draft = new Draft(state);
  let { revision, machines, coalesced, dropped, cluster, decisions } = state;
  for (const msg of messages) {
    switch (msg.type) {
      case "snapshot":
        applySnapshot(state, draft, msg);
        revision = msg.revision;
        machines = msg.machines;
        cluster = msg.cluster || cluster;
        break;
      case "event":
        if (msg.revision <= revision) break; // already applied: a resumed stream overlapped
        applyEvent(draft, msg);
        revision = msg.revision;
        break;
      case "idle":
        revision = Math.max(revision, msg.revision);
        break;
      case "machines":
        machines = msg.machines;
        break;
      case "request":
        draft.request({ ...msg, at: now });
        break;
      case "coalesced":
        coalesced += msg.coalesced;
        dropped += msg.dropped;
        break;
      case "delivered":
        draft.deliver(msg.revision, msg.watchers);
        break;
      case "scheduling":
        decisions = [...decisions.slice(-(DECISIONS_KEPT - 1)), msg];
        break;
      case "action":
        break;
    }
  }
  return {
    cluster,
    revision,
    machines,
    coalesced,
    dropped,
    objects: draft.objects,
    slots: draft.slots,
    history: draft.history,
    writers: draft.writers,
    deliveries: draft.deliveries,
    requests: draft.requests,
    decisions,
  };
}

// --- selectors ---------------------------------------------------------------------------

export function byKind(state: ClusterState, kind: string): StoredObject[] {
  const out: StoredObject[] = [];
  for (const o of state.objects.values()) if (o.kind === kind) out.push(o);
  return out;
}

export function podPhase(o: StoredObject): string {
  if (o.object.metadata.deletionTimestamp) return "Terminating";
  const status = o.object.status ?? {};
  const waiting = (status.containerStatuses ?? []).find(
    (c: { state?: { waiting?: { reason?: string } } }) => c.state?.waiting?.reason,
  );
  if (waiting?.state?.waiting?.reason === "CrashLoopBackOff") return "CrashLoopBackOff";
  return status.phase ?? "Pending";
}

export function nodeReady(o: StoredObject | undefined): boolean | null {
  if (!o) return null;
  const ready = (o.object.status?.conditions ?? []).find((c: { type: string }) => c.type === "Ready");
  return ready ? ready.status === "True" : null;
}

/** The objects a Deployment (or any owner) leads to, following ownerReferences down. */
export function descendants(state: ClusterState, uid: string): Set<string> {
  const children = new Map<string, string[]>();
  for (const o of state.objects.values()) {
    for (const ref of o.object.metadata.ownerReferences ?? []) {
      const list = children.get(ref.uid) ?? [];
      list.push(o.uid);
      children.set(ref.uid, list);
    }
  }
  const out = new Set<string>([uid]);
  const todo = [uid];
  while (todo.length) {
    for (const child of children.get(todo.pop()!) ?? []) {
      if (!out.has(child)) {
        out.add(child);
        todo.push(child);
      }
    }
  }
  return out;
}
