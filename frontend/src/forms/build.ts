// From form values to a manifest.  Pure: no DOM, no network.
//
// build() shapes what was typed and nothing more.  It never rejects or "fixes" a value (an
// invalid name goes into the manifest exactly as typed) because the API server's validation
// message, shown next to the field, is what teaches.  It only turns text into numbers where
// that is unambiguous, trims strings, and leaves out optional parts that are empty.

import { columnsOf, isRows, type ColumnSpec, type FieldSpec, type FormSpec, type When } from "./kinds";

export type Values = Record<string, unknown>;

/** One row of a row editor, as typed: cell values keyed by column. */
export type Row = Record<string, unknown>;

type Obj = Record<string, unknown>;

/** The starting values of a form: each field's default, or an empty value of its type. */
export function defaults(spec: FormSpec): Values {
  const out: Values = {};
  for (const f of spec.fields) {
    if (f.default !== undefined) out[f.key] = structuredClone(f.default);
    else if (f.type === "checkbox") out[f.key] = false;
    else if (f.type === "list" || isRows(f.type)) out[f.key] = [];
    else if (f.type === "select") out[f.key] = f.options?.[0] ?? "";
    else out[f.key] = "";
  }
  return out;
}

/** Whether a `when` condition holds for these values (no condition always holds). */
export function holds(when: When | undefined, values: Values): boolean {
  return !when || values[when.key] === when.equals;
}

/** The fields that currently count: those whose `when` holds. */
export function activeFields(spec: FormSpec, values: Values): FieldSpec[] {
  return spec.fields.filter((f) => holds(f.when, values));
}

// ---- coercion ----

function text(v: unknown): string {
  if (v === null || v === undefined) return "";
  return String(v).trim();
}

/** A number when the text is plainly one, nothing when blank, otherwise the text as typed. */
export function toNumber(v: unknown): number | string | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  const s = text(v);
  if (s === "") return undefined;
  return /^[-+]?\d+(\.\d+)?$/.test(s) ? Number(s) : s;
}

/** Multi-line values (file contents) keep their whitespace; blank still means empty. */
function cell(col: ColumnSpec, v: unknown): unknown {
  if (col.type === "number") return toNumber(v);
  if (col.type === "textarea") {
    const s = v === null || v === undefined ? "" : String(v);
    return s.trim() === "" ? undefined : s;
  }
  const s = text(v);
  return s === "" ? undefined : s;
}

/** Rows from either an array of records or a plain {key: value} object (handy for callers). */
export function toRows(v: unknown): Row[] {
  if (Array.isArray(v)) return v.filter((r): r is Row => typeof r === "object" && r !== null);
  if (v && typeof v === "object") return Object.entries(v).map(([key, value]) => ({ key, value }));
  return [];
}

/**
 * Split a command line into arguments.  One argument per line when there are several lines
 * (so an argument can hold spaces and quotes freely); otherwise words split on spaces, with
 * '…' and "…" grouping words the way a shell would.
 */
export function splitCommand(input: string): string[] {
  if (input.includes("\n")) return input.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const out: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | null = null;
  for (const ch of input.trim()) {
    if (quote) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

/** A DNS label made from an image reference's base name: "ghcr.io/a/My_App:v1" → "my-app". */
export function imageBaseName(image: string): string {
  const last = image.trim().split("@")[0].split("/").pop() ?? "";
  return last
    .split(":")[0]
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 63)
    .replace(/-$/, "");
}

/** Reads values through the spec: unknown fields, and fields whose `when` fails, read as absent. */
function reader(spec: FormSpec, values: Values) {
  const fields = new Map(activeFields(spec, values).map((f) => [f.key, f]));
  const raw = (key: string): unknown => (fields.has(key) ? values[key] : undefined);
  const str = (key: string): string | undefined => text(raw(key)) || undefined;
  /** Rows with cells coerced by column type; rows left at their column defaults are dropped. */
  const rows = (key: string): Row[] => {
    const field = fields.get(key);
    if (!field) return [];
    const out: Row[] = [];
    for (const r of toRows(raw(key))) {
      const row: Row = {};
      let touched = false;
      for (const col of columnsOf(field)) {
        if (!holds(col.when, values)) continue;
        const v = cell(col, r[col.key] ?? col.default);
        if (v === undefined) continue;
        row[col.key] = v;
        if (col.default === undefined || String(v) !== String(col.default)) touched = true;
      }
      if (touched) out.push(row);
    }
    return out;
  };
  return {
    str,
    rows,
    num: (key: string) => toNumber(raw(key)),
    bool: (key: string) => [true, "true", "on"].includes(raw(key) as never),
    list: (key: string): string[] => {
      const v = raw(key);
      const items = Array.isArray(v) ? v : typeof v === "string" ? v.split(/[\n,]/) : [];
      return items.map(text).filter((s) => s !== "");
    },
    /** A key/value field as a map, or undefined when it has no rows; a later duplicate key wins. */
    map: (key: string): Record<string, unknown> | undefined => {
      const rs = rows(key);
      if (!rs.length) return undefined;
      return Object.fromEntries(rs.map((r) => [text(r.key), r.value ?? ""]));
    },
  };
}

type Reader = ReturnType<typeof reader>;

/** Drop keys whose value is undefined, an empty array or an empty object, keeping order. */
function clean(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

// ---- the pieces of a manifest ----

/** The name used where a name is needed before one is typed: the image's base name. */
function fallbackName(r: Reader, kind: string): string {
  return imageBaseName(r.str("image") ?? "") || kind.toLowerCase();
}

function appName(r: Reader, kind: string): string {
  return r.str("name") ?? fallbackName(r, kind);
}

function labelsOrApp(r: Reader, kind: string, key = "labels"): Record<string, unknown> {
  return r.map(key) ?? { app: appName(r, kind) };
}

function container(r: Reader, kind: string): Obj {
  const command = r.str("command");
  const resources = clean({
    requests: clean({ cpu: r.str("cpuRequest"), memory: r.str("memoryRequest") }),
    limits: clean({ cpu: r.str("cpuLimit"), memory: r.str("memoryLimit") }),
  });
  return clean({
    name: appName(r, kind),
    image: r.str("image") ?? "",
    command: command === undefined ? undefined : splitCommand(command),
    ports: r.rows("ports").map((p) => clean({ name: p.name, containerPort: p.containerPort, protocol: p.protocol ?? "TCP" })),
    env: r.rows("env").map((e) => clean({ name: e.name ?? "", value: e.value })),
    resources,
  });
}

function affinity(r: Reader): Obj | undefined {
  const key = r.str("affinityKey");
  if (key === undefined) return undefined;
  const operator = r.str("affinityOperator") ?? "In";
  const values = r.list("affinityValues");
  const expression = clean({ key, operator, values: operator === "Exists" || operator === "DoesNotExist" ? undefined : values });
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [expression] }] } } };
}

function podSpec(r: Reader, kind: string): Obj {
  return clean({
    containers: [container(r, kind)],
    restartPolicy: r.str("restartPolicy"),
    nodeSelector: r.map("nodeSelector"),
    tolerations: r.rows("tolerations").map((t) => clean({ key: t.key, operator: t.operator ?? "Equal", value: t.value, effect: t.effect })),
    affinity: affinity(r),
  });
}

function template(r: Reader, kind: string): Obj {
  return { metadata: { labels: labelsOrApp(r, kind) }, spec: podSpec(r, kind) };
}

function jobSpec(r: Reader, kind: string): Obj {
  return clean({
    completions: r.num("completions"),
    parallelism: r.num("parallelism"),
    backoffLimit: r.num("backoffLimit"),
    template: template(r, kind),
  });
}

function servicePort(p: Row): Obj {
  return clean({ name: p.name, port: p.port, targetPort: toNumber(p.targetPort), protocol: p.protocol ?? "TCP", nodePort: p.nodePort });
}

interface Shape {
  /** Whether app=<name> stands in for empty labels (kinds whose pods are selected by label). */
  appLabel: boolean;
  /** Everything after metadata. */
  body: (r: Reader, kind: string) => Obj;
}

/** How each kind's manifest is put together, beyond apiVersion, kind and metadata. */
const SHAPES: Record<string, Shape> = {
  Deployment: {
    appLabel: true,
    body: (r, k) => ({ spec: clean({ replicas: r.num("replicas"), selector: { matchLabels: labelsOrApp(r, k) }, template: template(r, k) }) }),
  },
  StatefulSet: {
    appLabel: true,
    body: (r, k) => ({
      spec: clean({
        replicas: r.num("replicas"),
        serviceName: r.str("serviceName") ?? appName(r, k),
        selector: { matchLabels: labelsOrApp(r, k) },
        template: template(r, k),
      }),
    }),
  },
  DaemonSet: {
    appLabel: true,
    body: (r, k) => ({ spec: { selector: { matchLabels: labelsOrApp(r, k) }, template: template(r, k) } }),
  },
  Pod: { appLabel: true, body: (r, k) => ({ spec: podSpec(r, k) }) },
  Job: { appLabel: true, body: (r, k) => ({ spec: jobSpec(r, k) }) },
  CronJob: {
    appLabel: true,
    body: (r, k) => ({
      spec: clean({
        schedule: r.str("schedule") ?? "",
        concurrencyPolicy: r.str("concurrencyPolicy"),
        suspend: r.bool("suspend") ? true : undefined,
        jobTemplate: { spec: jobSpec(r, k) },
      }),
    }),
  },
  Service: {
    appLabel: true,
    body: (r, k) => {
      const type = r.str("type") ?? "ClusterIP";
      const headless = type === "Headless";
      return {
        spec: clean({
          type: headless ? "ClusterIP" : type,
          clusterIP: headless ? "None" : undefined,
          selector: labelsOrApp(r, k, "selector"),
          ports: r.rows("ports").map(servicePort),
          externalTrafficPolicy: r.str("externalTrafficPolicy"),
        }),
      };
    },
  },
  ConfigMap: { appLabel: false, body: (r) => clean({ data: r.map("data") }) },
  Secret: { appLabel: false, body: (r) => clean({ type: r.str("type"), stringData: r.map("stringData") }) },
  Namespace: { appLabel: false, body: () => ({}) },
};

/** The manifest for a form's values: apiVersion, kind, metadata, then the kind's own parts. */
export function build(spec: FormSpec, values: Values): Record<string, unknown> {
  const r = reader(spec, values);
  const shape = SHAPES[spec.kind] ?? { appLabel: false, body: () => ({}) };
  const metadata = clean({
    name: r.str("name") ?? "",
    namespace: spec.namespaced ? r.str("namespace") : undefined,
    labels: shape.appLabel ? labelsOrApp(r, spec.kind) : r.map("labels"),
  });
  return { apiVersion: spec.apiVersion, kind: spec.kind, metadata, ...shape.body(r, spec.kind) };
}
