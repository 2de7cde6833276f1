// The messages of the cluster stream (/ws/clusters/<name>/), as kubeviz/stream/consumers.py sends them.

export interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
}

export interface ApiObject {
  kind: string;
  apiVersion?: string;
  metadata: Meta;
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  status?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  [field: string]: unknown;
}

export interface Component {
  name: string;
  running: boolean;
  enabled?: boolean;
}

export interface Machine {
  name: string;
  role: "master" | "worker";
  running: boolean;
  ip?: string;
  bootID?: string;
  kubeletRunning?: boolean;
  components: Component[];
}

export interface SnapshotObject {
  kind: string;
  group: string;
  resource: string;
  object: ApiObject;
}

export interface SnapshotMsg {
  type: "snapshot";
  cluster: string;
  revision: number;
  machines: Machine[];
  objects: SnapshotObject[];
}

export interface EventMsg {
  type: "event";
  event: "ADDED" | "MODIFIED" | "DELETED";
  kind: string;
  group: string;
  resource: string;
  namespace: string;
  name: string;
  uid: string;
  revision: number;
  object: ApiObject;
}

export interface RequestMsg {
  type: "request";
  component: string;
  client?: string;
  verb: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  code: number;
  latency: number;
  revision: number | null;
}

export interface ActionMsg {
  type: "action";
  node: string;
  component: string;
  action: string;
  at?: number;
  [detail: string]: unknown;
}

export interface SchedulingMsg {
  type: "scheduling";
  pod: { namespace: string; name: string; uid?: string };
  time: string;
  attempt: number;
  selectedNode: string | null;
  bound: boolean;
  message: string;
  nodesEvaluated: number;
  feasibleNodes: number;
  /** node -> the filter plugins that rejected it (the first nodes only; rejectedCount has all). */
  rejected: Record<string, string[]>;
  rejectedCount: number;
  /** The best nodes' total scores, best first. */
  totals: Record<string, number>;
}

export interface DeliveredMsg {
  type: "delivered";
  revision: number;
  /** "component" or "component/instance" (a kubelet's node, a controller's name). */
  watchers: string[];
}

export interface MachinesMsg {
  type: "machines";
  machines: Machine[];
}

export interface IdleMsg {
  type: "idle";
  revision: number;
}

export interface CoalescedMsg {
  type: "coalesced";
  coalesced: number;
  dropped: number;
}

export type Message =
  | SnapshotMsg
  | EventMsg
  | RequestMsg
  | ActionMsg
  | SchedulingMsg
  | DeliveredMsg
  | MachinesMsg
  | IdleMsg
  | CoalescedMsg;

export interface Frame {
  seq: number;
  messages: Message[];
}
