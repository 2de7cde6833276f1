// Checking manifests against the OpenAPI schema the cluster's apiserver serves, before they are
// sent: the mistakes a schema can see (a misspelt field, text where a number goes, a missing
// required field), told in plain words at Kubernetes field paths such as
// spec.template.spec.containers[0].image.  Everything else (name formats, label syntax,
// immutable fields, defaults) stays the server's job; its answers are shown separately.

import { locate, type Doc } from "./documents";

export interface Problem {
  doc: number;
  path: string;
  message: string;
  severity: "error" | "warning";
}

export type Schema = Record<string, unknown>;

export interface SchemaIndex {
  find(apiVersion: string, kind: string): { schema: Schema; resolve: (ref: string) => Schema | undefined } | null;
}

type Resolve = (ref: string) => Schema | undefined;

// Far deeper than any real manifest; it only stops a self-referencing schema or a looped
// object from running forever.
const MAX_DEPTH = 64;

const TYPE_WORDS: Record<string, string> = {
  object: "an object (fields written as key: value)",
  array: 'a list (items starting with "- ")',
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asSchema(v: unknown): Schema | null {
  return isObject(v) ? v : null;
}

// Kubernetes wraps most references as allOf: [{$ref}] next to a description; fold the
// references and allOf parts into one schema so the walk sees plain properties.
function flatten(schema: Schema, resolve: Resolve, depth = 0): Schema {
  if (depth > MAX_DEPTH) return {};
  let out: Schema = { ...schema };
  if (typeof schema.$ref === "string") {
    delete out.$ref;
    const target = resolve(schema.$ref);
    // An unknown reference checks nothing rather than failing everything.
    if (target) out = merge(flatten(target, resolve, depth + 1), out);
  }
  if (Array.isArray(schema.allOf)) {
    delete out.allOf;
    for (const part of schema.allOf) {
      const s = asSchema(part);
      if (s) out = merge(flatten(s, resolve, depth + 1), out);
    }
  }
  return out;
}

function merge(base: Schema, over: Schema): Schema {
  const out: Schema = { ...base, ...over };
  const bp = asSchema(base.properties);
  const op = asSchema(over.properties);
  if (bp || op) out.properties = { ...bp, ...op };
  const req = [...strings(base.required), ...strings(over.required)];
  if (req.length) out.required = [...new Set(req)];
  return out;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function intOrString(s: Schema): boolean {
  return s["x-kubernetes-int-or-string"] === true || s.format === "int-or-string";
}

function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 37) + "..." : s);
}

function describe(v: unknown): string {
  if (typeof v === "string") return `the text ${quote(v)}`;
  if (typeof v === "number") return `the number ${v}`;
  if (typeof v === "boolean") return `${v}`;
  if (Array.isArray(v)) return "a list";
  return "an object";
}

function matchesType(v: unknown, type: string): boolean {
  switch (type) {
    case "object":
      return isObject(v);
    case "array":
      return Array.isArray(v);
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    default:
      return true;
  }
}

// The usual way each mistake happens, and the edit that fixes it.
function typeHint(v: unknown, types: string[]): string {
  const wantsText = types.includes("string");
  // No quoted example: 1.0 reads as the number 1, and "1" is not what was written.
  if (wantsText && (typeof v === "number" || typeof v === "boolean")) return "; put it in quotes to make it text";
  if (typeof v === "string" && !wantsText) {
    if ((types.includes("integer") || types.includes("number")) && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return "; remove the quotes";
    if (types.includes("boolean") && /^(true|false)$/i.test(v)) return "; remove the quotes";
  }
  if (types.includes("array") && isObject(v)) return '; start each item on its own line with "- "';
  if (types.includes("integer") && typeof v === "number" && !Number.isInteger(v)) return "; it has a fraction";
  return "";
}

function typeError(v: unknown, types: string[]): string {
  const want = types.map((t) => TYPE_WORDS[t] ?? t).join(" or ");
  return `expected ${want}, got ${describe(v)}${typeHint(v, types)}`;
}

// Optimal string alignment distance: Levenshtein plus swapped neighbours ("repilcas").
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

// The closest candidate within two edits.  Case differences count as one edit at most, and a
// name so short that two edits rewrite it entirely gets no guess.
export function closest(word: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = Math.min(editDistance(word, c), word.toLowerCase() === c.toLowerCase() ? 1 : Infinity);
    if (dist < bestDistance || (dist === bestDistance && best !== null && c < best)) {
      best = c;
      bestDistance = dist;
    }
  }
  return bestDistance <= 2 && bestDistance < word.length ? best : null;
}

function child(path: string, key: string): string {
  if (/[.[\]]/.test(key)) return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

// Map entries are written the Kubernetes way, limits[cpu], so keys with dots stay whole.
function entry(path: string, key: string): string {
  return `${path}[${key}]`;
}

function firstSentence(s: unknown): string {
  if (typeof s !== "string") return "";
  const m = /^(.+?\.)(\s|$)/s.exec(s.trim());
  const sentence = (m ? m[1] : s.trim()).replace(/\s+/g, " ");
  return sentence.length > 160 ? "" : sentence;
}

interface Walk {
  doc: number;
  resolve: Resolve;
  out: Problem[];
}

function error(w: Walk, path: string, message: string): void {
  w.out.push({ doc: w.doc, path, message, severity: "error" });
}

function walk(w: Walk, value: unknown, raw: Schema, path: string, depth: number): void {
  // null is how YAML writes an empty field; the server treats it as unset.
  if (value === null || value === undefined || depth > MAX_DEPTH) return;
  const s = flatten(raw, w.resolve);
  const free = s["x-kubernetes-preserve-unknown-fields"] === true;

  if (intOrString(s)) {
    if (!matchesType(value, "integer") && !matchesType(value, "string")) error(w, path, typeError(value, ["integer", "string"]));
    return;
  }

  const type = typeof s.type === "string" ? s.type : undefined;
  if (type === undefined && !free) {
    // Quantity and friends: a choice between plain types, with no type of their own.
    const choices = (Array.isArray(s.oneOf) ? s.oneOf : Array.isArray(s.anyOf) ? s.anyOf : []).map(asSchema).filter((c): c is Schema => c !== null);
    if (choices.length) {
      checkChoices(w, value, choices, path, depth);
      return;
    }
  }

  if (type && !matchesType(value, type)) {
    error(w, path, typeError(value, [type]));
    return;
  }

  if (Array.isArray(s.enum) && !s.enum.some((e) => e === value)) {
    const allowed = s.enum.filter((e): e is string | number | boolean => ["string", "number", "boolean"].includes(typeof e));
    const guess = typeof value === "string" ? closest(value, allowed.filter((e): e is string => typeof e === "string")) : null;
    const list = allowed.map((e) => (typeof e === "string" ? JSON.stringify(e) : String(e))).join(", ");
    error(w, path, `${describe(value)} is not allowed here; use one of ${list}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""}`);
    return;
  }

  if (Array.isArray(value)) {
    const items = asSchema(s.items);
    if (items) value.forEach((item, i) => walk(w, item, items, `${path}[${i}]`, depth + 1));
    return;
  }

  if (isObject(value)) walkObject(w, value, s, path, depth, free);
}

function checkChoices(w: Walk, value: unknown, choices: Schema[], path: string, depth: number): void {
  const tries = choices.map((c) => {
    const attempt: Walk = { ...w, out: [] };
    walk(attempt, value, c, path, depth + 1);
    return attempt.out;
  });
  if (tries.some((t) => t.length === 0)) return;
  const types = choices.map((c) => flatten(c, w.resolve).type).filter((t): t is string => typeof t === "string");
  const typeMismatch = types.length === choices.length && !types.some((t) => matchesType(value, t));
  if (typeMismatch) error(w, path, typeError(value, types));
  else w.out.push(...tries.reduce((a, b) => (b.length < a.length ? b : a)));
}

function walkObject(w: Walk, value: Record<string, unknown>, s: Schema, path: string, depth: number, free: boolean): void {
  const props = asSchema(s.properties);
  const extra = s.additionalProperties;
  const known = props ? Object.keys(props) : [];

  for (const [key, v] of Object.entries(value)) {
    // status is written by controllers, not by whoever applies the manifest.
    if (path === "" && key === "status") continue;
    const prop = props ? asSchema(props[key]) : null;
    if (prop) walk(w, v, prop, child(path, key), depth + 1);
    else if (asSchema(extra)) walk(w, v, extra as Schema, entry(path, key), depth + 1);
    else if (free || extra === true) continue;
    // A bare "type: object" (RawExtension, FieldsV1) holds anything.
    else if (!props && extra !== false) continue;
    else error(w, child(path, key), unknownField(key, known, path));
  }

  const required = strings(s.required);
  for (const name of required) {
    if (value[name] !== undefined && value[name] !== null) continue;
    const why = firstSentence(props ? asSchema(props[name])?.description : undefined);
    error(w, child(path, name), `missing required field ${JSON.stringify(name)}${why ? ` (${why.replace(/\.$/, "")})` : ""}`);
  }
}

function unknownField(key: string, known: string[], path: string): string {
  const base = `unknown field ${JSON.stringify(key)}`;
  const guess = closest(key, known);
  if (guess) return `${base}; did you mean ${JSON.stringify(guess)}?`;
  if (known.length === 0) return `${base}; ${path || "this object"} takes no fields`;
  if (known.length <= 10) return `${base}; the fields allowed here are ${known.join(", ")}`;
  return base;
}

/** Problems in one object against its kind's schema.  Paths start at the object's root. */
export function validateObject(obj: unknown, schema: Schema, resolve: Resolve, doc = 0): Problem[] {
  const w: Walk = { doc, resolve, out: [] };
  walk(w, obj, schema, "", 0);
  return w.out;
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== "";
}

export function validateDocs(docs: Doc[], index: SchemaIndex): Problem[] {
  const out: Problem[] = [];
  for (const d of docs) {
    // A document that does not parse gets its syntax errors only; guessing at the rest of
    // it would bury the one message that matters.
    if (d.errors.length) continue;
    const obj = d.object;
    if (!isObject(obj)) {
      out.push({ doc: d.index, path: "", message: `each document must be an object with apiVersion, kind and metadata, not ${describe(obj)}`, severity: "error" });
      continue;
    }
    const { apiVersion, kind } = obj;
    let complete = true;
    if (!present(apiVersion)) {
      out.push({ doc: d.index, path: "apiVersion", message: "apiVersion is required: which API group and version this object belongs to, such as apps/v1", severity: "error" });
      complete = false;
    } else if (typeof apiVersion !== "string") {
      out.push({ doc: d.index, path: "apiVersion", message: `apiVersion must be text such as apps/v1 or v1, not ${describe(apiVersion)}`, severity: "error" });
      complete = false;
    }
    if (!present(kind)) {
      out.push({ doc: d.index, path: "kind", message: "kind is required: what sort of object this is, such as Deployment or ConfigMap", severity: "error" });
      complete = false;
    } else if (typeof kind !== "string") {
      out.push({ doc: d.index, path: "kind", message: `kind must be text such as Deployment, not ${describe(kind)}`, severity: "error" });
      complete = false;
    }
    if (!complete) continue;
    const found = index.find(apiVersion as string, kind as string);
    if (!found) {
      // Kinds are CamelCase; "pod" for "Pod" is the slip worth naming.
      const capital = (kind as string).charAt(0).toUpperCase() + (kind as string).slice(1);
      const hint = capital !== kind && index.find(apiVersion as string, capital) ? `; did you mean ${capital}?` : "";
      out.push({ doc: d.index, path: "kind", message: `the server does not serve kind ${kind} in apiVersion ${apiVersion}${hint}`, severity: "warning" });
      continue;
    }
    out.push(...validateObject(obj, found.schema, found.resolve, d.index));
  }
  return out;
}

export interface LocatedProblem {
  from: number;
  to: number;
  message: string;
  severity: "error" | "warning";
}

/** Syntax errors and problems as editor ranges: the shape createEditor's check returns. */
export function diagnostics(text: string, docs: Doc[], problems: Problem[]): LocatedProblem[] {
  const out: LocatedProblem[] = docs.flatMap((d) => d.errors.map((e) => ({ ...e, severity: "error" as const })));
  for (const p of problems) {
    const at = locate(text, p.doc, p.path) ?? { from: 0, to: 0 };
    out.push({ ...at, message: p.path ? `${p.path}: ${p.message}` : p.message, severity: p.severity });
  }
  return out;
}
