// The "create" forms, written as data.  Each FormSpec lists the fields a person fills in; the
// engine in render.ts draws them and build.ts turns the values into a manifest.  Adding a knob
// to a form means adding a row here, not writing new DOM code.
//
// `paths` on each field names the manifest paths the field writes, so that when the API server
// rejects the object, the message can be shown next to the field that caused it.

export type FieldType = "text" | "number" | "select" | "checkbox" | "keyvalue" | "list" | "textarea" | "ports" | "tolerations" | "env";

/** A condition on another field's value; the field (or column) only counts while it holds. */
export interface When {
  key: string;
  equals: unknown;
}

/** One column of a row editor (keyvalue, ports, tolerations, env). */
export interface ColumnSpec {
  key: string;
  label: string;
  type: "text" | "number" | "select" | "textarea";
  options?: string[];
  /** Text for an empty first choice in a select, e.g. "any effect"; without it there is none. */
  blank?: string;
  default?: string | number;
  placeholder?: string;
  min?: number;
  max?: number;
  when?: When;
}

export interface FieldSpec {
  key: string;
  label: string;
  type: FieldType;
  help?: string;
  required?: boolean;
  default?: unknown;
  options?: string[];
  min?: number;
  max?: number;
  placeholder?: string;
  /** Manifest field paths this field writes (prefixes), used to put a server error next to it,
   *  e.g. ["metadata.name"] or ["spec.template.spec.containers[0].image"]. */
  paths: string[];
  /** Only shown when another field has a value, e.g. {key: "type", equals: "NodePort"}. */
  when?: When;
  group?: string;
  /** Columns of a row editor; when absent the type's usual columns are used (see columnsOf). */
  columns?: ColumnSpec[];
}

export interface FormSpec {
  kind: string;
  apiVersion: string;
  title: string;
  namespaced: boolean;
  help: string;
  fields: FieldSpec[];
}

const KEY_VALUE: ColumnSpec[] = [
  { key: "key", label: "Key", type: "text" },
  { key: "value", label: "Value", type: "text" },
];

const ENV: ColumnSpec[] = [
  { key: "name", label: "Name", type: "text", placeholder: "LOG_LEVEL" },
  { key: "value", label: "Value", type: "text", placeholder: "info" },
];

const PROTOCOL: ColumnSpec = { key: "protocol", label: "Protocol", type: "select", options: ["TCP", "UDP", "SCTP"], default: "TCP" };

const CONTAINER_PORTS: ColumnSpec[] = [
  { key: "containerPort", label: "Port", type: "number", min: 1, max: 65535, placeholder: "80" },
  { key: "name", label: "Name", type: "text", placeholder: "http" },
  PROTOCOL,
];

const SERVICE_PORTS: ColumnSpec[] = [
  { key: "port", label: "Port", type: "number", min: 1, max: 65535, placeholder: "80" },
  { key: "targetPort", label: "Target port", type: "text", placeholder: "same as port" },
  { key: "name", label: "Name", type: "text", placeholder: "http" },
  PROTOCOL,
  { key: "nodePort", label: "Node port", type: "number", min: 30000, max: 32767, placeholder: "picked by the cluster", when: { key: "type", equals: "NodePort" } },
];

const TOLERATIONS: ColumnSpec[] = [
  { key: "key", label: "Taint key", type: "text", placeholder: "dedicated" },
  { key: "operator", label: "Operator", type: "select", options: ["Equal", "Exists"], default: "Equal" },
  { key: "value", label: "Value", type: "text", placeholder: "gpu" },
  { key: "effect", label: "Effect", type: "select", options: ["NoSchedule", "PreferNoSchedule", "NoExecute"], blank: "any effect" },
];

/** The columns a row editor shows: the field's own, or the usual ones for its type. */
export function columnsOf(field: FieldSpec): ColumnSpec[] {
  if (field.columns) return field.columns;
  switch (field.type) {
    case "keyvalue":
      return KEY_VALUE;
    case "env":
      return ENV;
    case "ports":
      return CONTAINER_PORTS;
    case "tolerations":
      return TOLERATIONS;
    default:
      return [];
  }
}

/** Whether a field's value is kept in rows (an array of records) rather than a single value. */
export function isRows(type: FieldType): boolean {
  return type === "keyvalue" || type === "ports" || type === "tolerations" || type === "env";
}

// ---- building blocks shared by several forms ----

function name(extraPaths: string[] = []): FieldSpec {
  return {
    key: "name", label: "Name", type: "text", required: true, default: "", placeholder: "web", group: "Basics",
    help: "Lowercase letters, digits and dashes; it must be unique in the namespace.",
    paths: ["metadata.name", ...extraPaths],
  }; // prettier-ignore
}

const NAMESPACE: FieldSpec = {
  key: "namespace", label: "Namespace", type: "text", default: "default", group: "Basics",
  help: "The namespace the object is created in.", paths: ["metadata.namespace"],
}; // prettier-ignore

function labels(paths: string[], help = "Labels on the object; app=<name> is used when you leave this empty."): FieldSpec {
  return {
    key: "labels", label: "Labels", type: "keyvalue", default: [], group: "Basics", help, paths,
    columns: [
      { key: "key", label: "Key", type: "text", placeholder: "app" },
      { key: "value", label: "Value", type: "text", placeholder: "web" },
    ],
  }; // prettier-ignore
}

function replicas(def: number): FieldSpec {
  return {
    key: "replicas", label: "Replicas", type: "number", default: def, min: 0, group: "Basics",
    help: "How many copies of the pod to keep running.", paths: ["spec.replicas"],
  }; // prettier-ignore
}

/** Where the pod spec sits inside each kind's manifest. */
const POD_PATH = {
  template: "spec.template.spec",
  cron: "spec.jobTemplate.spec.template.spec",
  pod: "spec",
};

interface ContainerDefaults {
  image: string;
  ports: { containerPort: number; protocol: string }[];
  command: string;
}

const WEB: ContainerDefaults = { image: "nginx:1.27", ports: [{ containerPort: 80, protocol: "TCP" }], command: "" };

function container(pod: string, d: ContainerDefaults): FieldSpec[] {
  const c = `${pod}.containers[0]`;
  return [
    {
      key: "image", label: "Image", type: "text", required: true, default: d.image, placeholder: "nginx:1.27", group: "Container",
      help: "The container image to run, with a tag.",
      // The bare containers paths catch errors about the container as a whole.
      paths: [`${c}.image`, c, `${pod}.containers`],
    },
    {
      key: "command", label: "Command", type: "textarea", default: d.command, placeholder: "the image's own command", group: "Container",
      help: "Replaces the image's entrypoint: words separated by spaces (quotes group words), or one argument per line.",
      paths: [`${c}.command`, `${c}.args`],
    },
    {
      key: "ports", label: "Container ports", type: "ports", default: d.ports, group: "Container",
      help: "Ports the container listens on.", paths: [`${c}.ports`],
    },
    {
      key: "env", label: "Environment variables", type: "env", default: [], group: "Container",
      help: "Variables set in the container's environment.", paths: [`${c}.env`],
    },
  ]; // prettier-ignore
}

function resources(pod: string): FieldSpec[] {
  const r = `${pod}.containers[0].resources`;
  const one = (key: string, label: string, path: string, placeholder: string, help: string): FieldSpec => ({
    key, label, type: "text", default: "", placeholder, group: "Resources", help, paths: [path],
  }); // prettier-ignore
  return [
    one("cpuRequest", "CPU request", `${r}.requests.cpu`, "100m", "CPU the scheduler sets aside on the node; 1000m is one core."),
    one("memoryRequest", "Memory request", `${r}.requests.memory`, "128Mi", "Memory the scheduler sets aside on the node."),
    one("cpuLimit", "CPU limit", `${r}.limits.cpu`, "500m", "The container is throttled above this much CPU."),
    one("memoryLimit", "Memory limit", `${r}.limits.memory`, "256Mi", "The container is killed if it uses more memory than this."),
  ];
}

function scheduling(pod: string): FieldSpec[] {
  const term = `${pod}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]`;
  const expr = `${term}.matchExpressions[0]`;
  return [
    {
      key: "nodeSelector", label: "Node selector", type: "keyvalue", default: [], group: "Scheduling",
      help: "Only nodes carrying all these labels can run the pod.", paths: [`${pod}.nodeSelector`],
      columns: [
        { key: "key", label: "Node label", type: "text", placeholder: "disktype" },
        { key: "value", label: "Value", type: "text", placeholder: "ssd" },
      ],
    },
    {
      key: "tolerations", label: "Tolerations", type: "tolerations", default: [], group: "Scheduling",
      help: "Taints the pod accepts; a tainted node repels pods that do not tolerate its taint.", paths: [`${pod}.tolerations`],
    },
    {
      key: "affinityKey", label: "Node affinity: label key", type: "text", default: "", placeholder: "kubernetes.io/hostname", group: "Scheduling",
      help: "A node label the pod requires; leave empty for no node affinity.",
      paths: [`${expr}.key`, expr, term, `${pod}.affinity`],
    },
    {
      key: "affinityOperator", label: "Node affinity: operator", type: "select", options: ["In", "NotIn", "Exists", "DoesNotExist"], default: "In", group: "Scheduling",
      help: "In and NotIn compare the label with the values; Exists and DoesNotExist only look for the key.",
      paths: [`${expr}.operator`],
    },
    {
      key: "affinityValues", label: "Node affinity: values", type: "list", default: [], placeholder: "node-1", group: "Scheduling",
      help: "The label values to match, for In and NotIn.", paths: [`${expr}.values`],
    },
  ]; // prettier-ignore
}

function podFields(pod: string, d: ContainerDefaults): FieldSpec[] {
  return [...container(pod, d), ...resources(pod), ...scheduling(pod)];
}

function jobFields(prefix: string, pod: string): FieldSpec[] {
  return [
    {
      key: "completions", label: "Completions", type: "number", default: 1, min: 0, group: "Job",
      help: "How many pods must finish successfully.", paths: [`${prefix}.completions`],
    },
    {
      key: "parallelism", label: "Parallelism", type: "number", default: 1, min: 0, group: "Job",
      help: "How many pods may run at the same time.", paths: [`${prefix}.parallelism`],
    },
    {
      key: "backoffLimit", label: "Retries (backoff limit)", type: "number", default: 6, min: 0, group: "Job",
      help: "How many failed pods to allow before the Job gives up.", paths: [`${prefix}.backoffLimit`],
    },
    {
      key: "restartPolicy", label: "Restart policy", type: "select", options: ["Never", "OnFailure"], default: "Never", group: "Job",
      help: "Never starts a new pod after a failure; OnFailure restarts the container in the same pod.",
      paths: [`${pod}.restartPolicy`],
    },
  ]; // prettier-ignore
}

const BATCH: ContainerDefaults = { image: "busybox:1.36", ports: [], command: 'sh -c "echo hello from kubeviz; sleep 5"' };

const templateLabels = (selector: boolean) =>
  labels(["metadata.labels", ...(selector ? ["spec.selector"] : []), "spec.template.metadata.labels"], "Labels on the object and its pods; app=<name> is used when you leave this empty.");

export const FORMS: FormSpec[] = [
  {
    kind: "Deployment", apiVersion: "apps/v1", title: "Deployment", namespaced: true,
    help: "Keeps a number of identical pods running and replaces them gradually when you change the template.",
    fields: [name([`${POD_PATH.template}.containers[0].name`]), NAMESPACE, replicas(3), templateLabels(true), ...podFields(POD_PATH.template, WEB)],
  },
  {
    kind: "Pod", apiVersion: "v1", title: "Pod", namespaced: true,
    help: "A single pod; nothing replaces it if it or its node goes away.",
    fields: [
      name([`${POD_PATH.pod}.containers[0].name`]), NAMESPACE, labels(["metadata.labels"]),
      ...podFields(POD_PATH.pod, WEB),
      {
        key: "restartPolicy", label: "Restart policy", type: "select", options: ["Always", "OnFailure", "Never"], default: "Always", group: "Container",
        help: "What the kubelet does when the container exits.", paths: ["spec.restartPolicy"],
      },
    ],
  },
  {
    kind: "Service", apiVersion: "v1", title: "Service", namespaced: true,
    help: "A stable virtual address that spreads traffic over the pods its selector matches.",
    fields: [
      name(), NAMESPACE, labels(["metadata.labels"]),
      {
        key: "type", label: "Type", type: "select", options: ["ClusterIP", "NodePort", "Headless"], default: "ClusterIP", group: "Service",
        help: "ClusterIP is reachable inside the cluster, NodePort also on every node's port, Headless gives no virtual IP at all.",
        paths: ["spec.type", "spec.clusterIP"],
      },
      {
        key: "selector", label: "Selector", type: "keyvalue", default: [], group: "Service",
        help: "The pods to send traffic to; app=<name> is used when you leave this empty.", paths: ["spec.selector"],
        columns: [
          { key: "key", label: "Pod label", type: "text", placeholder: "app" },
          { key: "value", label: "Value", type: "text", placeholder: "web" },
        ],
      },
      {
        key: "ports", label: "Ports", type: "ports", default: [{ port: 80, targetPort: 80, protocol: "TCP" }], group: "Service",
        help: "Each port the Service listens on and the pod port it forwards to.", paths: ["spec.ports"], columns: SERVICE_PORTS,
      },
      {
        key: "externalTrafficPolicy", label: "External traffic policy", type: "select", options: ["Cluster", "Local"], default: "Cluster", group: "Service",
        help: "Local only sends node-port traffic to pods on the node that received it.", paths: ["spec.externalTrafficPolicy"],
        when: { key: "type", equals: "NodePort" },
      },
    ],
  },
  {
    kind: "DaemonSet", apiVersion: "apps/v1", title: "DaemonSet", namespaced: true,
    help: "Runs one copy of the pod on every node that can take it.",
    fields: [name([`${POD_PATH.template}.containers[0].name`]), NAMESPACE, templateLabels(true), ...podFields(POD_PATH.template, WEB)],
  },
  {
    kind: "StatefulSet", apiVersion: "apps/v1", title: "StatefulSet", namespaced: true,
    help: "Pods with stable names (web-0, web-1, …) started and stopped one at a time, in order.",
    fields: [
      name([`${POD_PATH.template}.containers[0].name`]), NAMESPACE, replicas(2),
      {
        key: "serviceName", label: "Service name", type: "text", default: "", placeholder: "same as the name", group: "Basics",
        help: "The headless Service that gives each pod its DNS name.", paths: ["spec.serviceName"],
      },
      templateLabels(true), ...podFields(POD_PATH.template, WEB),
    ],
  },
  {
    kind: "Job", apiVersion: "batch/v1", title: "Job", namespaced: true,
    help: "Runs pods until a number of them finish successfully.",
    fields: [name([`${POD_PATH.template}.containers[0].name`]), NAMESPACE, templateLabels(false), ...jobFields("spec", POD_PATH.template), ...podFields(POD_PATH.template, BATCH)],
  },
  {
    kind: "CronJob", apiVersion: "batch/v1", title: "CronJob", namespaced: true,
    help: "Creates a Job on a schedule.",
    fields: [
      name([`${POD_PATH.cron}.containers[0].name`]), NAMESPACE,
      labels(["metadata.labels", "spec.jobTemplate.spec.template.metadata.labels"], "Labels on the object and its pods; app=<name> is used when you leave this empty."),
      {
        key: "schedule", label: "Schedule", type: "text", required: true, default: "*/1 * * * *", placeholder: "*/5 * * * *", group: "Schedule",
        help: "When to start a Job, in cron format: minute, hour, day of month, month, day of week.", paths: ["spec.schedule"],
      },
      {
        key: "concurrencyPolicy", label: "Concurrency policy", type: "select", options: ["Allow", "Forbid", "Replace"], default: "Allow", group: "Schedule",
        help: "What to do when the previous Job is still running: run both, skip the new one, or replace the old one.",
        paths: ["spec.concurrencyPolicy"],
      },
      {
        key: "suspend", label: "Suspended", type: "checkbox", default: false, group: "Schedule",
        help: "While suspended no new Jobs are started.", paths: ["spec.suspend"],
      },
      ...jobFields("spec.jobTemplate.spec", POD_PATH.cron),
      ...podFields(POD_PATH.cron, { ...BATCH, command: 'sh -c "date; echo hello from kubeviz"' }),
    ],
  },
  {
    kind: "ConfigMap", apiVersion: "v1", title: "ConfigMap", namespaced: true,
    help: "Configuration as key/value pairs that pods can read as files or environment variables.",
    fields: [
      name(), NAMESPACE, labels(["metadata.labels"], "Labels on the object."),
      {
        key: "data", label: "Data", type: "keyvalue", default: [], group: "Data",
        help: "Each key becomes a file name or variable name; the value is its content.", paths: ["data", "binaryData"],
        columns: [
          { key: "key", label: "Key", type: "text", placeholder: "app.properties" },
          { key: "value", label: "Value", type: "textarea", placeholder: "color=blue" },
        ],
      },
    ],
  },
  {
    kind: "Secret", apiVersion: "v1", title: "Secret", namespaced: true,
    help: "Like a ConfigMap, for passwords and keys; anyone who can read Secrets in the namespace can read it.",
    fields: [
      name(), NAMESPACE, labels(["metadata.labels"], "Labels on the object."),
      {
        key: "type", label: "Type", type: "select", default: "Opaque", group: "Data",
        options: ["Opaque", "kubernetes.io/basic-auth", "kubernetes.io/ssh-auth", "kubernetes.io/tls", "kubernetes.io/dockerconfigjson"],
        help: "Opaque holds anything; the other types require certain keys.", paths: ["type"],
      },
      {
        key: "stringData", label: "Data", type: "keyvalue", default: [], group: "Data",
        help: "Written as plain text here; the API server stores it base64-encoded under data.", paths: ["stringData", "data"],
        columns: [
          { key: "key", label: "Key", type: "text", placeholder: "password" },
          { key: "value", label: "Value", type: "textarea" },
        ],
      },
    ],
  },
  {
    kind: "Namespace", apiVersion: "v1", title: "Namespace", namespaced: false,
    help: "A named space for objects; names only have to be unique inside one.",
    fields: [name(), labels(["metadata.labels"], "Labels on the namespace.")],
  },
]; // prettier-ignore

/** The form for a kind, or undefined when kubeviz has no form for it. */
export function formFor(kind: string): FormSpec | undefined {
  return FORMS.find((f) => f.kind === kind);
}
