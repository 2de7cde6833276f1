// Reading and writing the editor's text: a stream of YAML documents, one Kubernetes object
// each.  Offsets are UTF-16 positions into the text, the same unit CodeMirror uses, so a
// range found here can be handed to the editor as is.

import { isCollection, isMap, isPair, isScalar, isSeq, parseAllDocuments, stringify } from "yaml";
import type { Document, Node as YamlNode } from "yaml";

export interface Doc {
  index: number;
  object: unknown;
  from: number;
  to: number;
  errors: { message: string; from: number; to: number }[];
}

// The core schema knows only maps, lists, strings, numbers, booleans and null, so pasted
// text cannot ask for custom tags.  The alias limit stops a few lines from expanding into
// millions of nodes.
const PARSE = { schema: "core", prettyErrors: false } as const;
const TO_JS = { maxAliasCount: 100 };

type ParsedDoc = Document.Parsed;

function parsed(text: string): { doc: ParsedDoc; value: unknown; error: string | null }[] {
  const out: { doc: ParsedDoc; value: unknown; error: string | null }[] = [];
  for (const doc of parseAllDocuments(text, PARSE)) {
    let value: unknown = null;
    let error: string | null = null;
    try {
      value = doc.toJS(TO_JS);
      if (hasLoop(value)) {
        error = "an alias points back into its own anchor, which makes an endless object";
        value = null;
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    // Comment-only or blank documents (often just a stray ---) are not objects to apply.
    if ((value === null || value === undefined) && doc.errors.length === 0 && error === null) continue;
    out.push({ doc, value, error });
  }
  return out;
}

// locate() is called once per problem, on the text parseDocuments() has just read; keep that
// parse.  Only the syntax trees are reused: every parseDocuments() call returns fresh objects,
// so a caller may change them freely.
let memo: { text: string; docs: ReturnType<typeof parsed> } | null = null;

function parsedCached(text: string, fresh = false): ReturnType<typeof parsed> {
  if (fresh || memo?.text !== text) memo = { text, docs: parsed(text) };
  return memo.docs;
}

function hasLoop(value: unknown, above: Set<unknown> = new Set()): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (above.has(value)) return true;
  above.add(value);
  const children = Array.isArray(value) ? value : Object.values(value);
  const loop = children.some((c) => hasLoop(c, above));
  above.delete(value);
  return loop;
}

function span(doc: ParsedDoc): { from: number; to: number } {
  const contents = doc.contents as YamlNode | null;
  const from = contents?.range ? contents.range[0] : doc.range[0];
  return { from, to: Math.max(from, doc.range[1]) };
}

export function parseDocuments(text: string): Doc[] {
  return parsedCached(text, true).map(({ doc, value, error }, index) => {
    const { from, to } = span(doc);
    const errors = doc.errors.map((e) => ({ message: e.message, from: e.pos[0], to: Math.max(e.pos[0], e.pos[1]) }));
    if (error !== null) errors.push({ message: error, from, to: lineEnd(text, from, to) });
    return { index, object: value, from, to, errors };
  });
}

type Segment = string | number;

// "spec.containers[0].image" → ["spec", "containers", 0, "image"].  Kubernetes writes map
// keys in brackets too ("limits[cpu]", "labels[app.kubernetes.io/name]"), so a bracket holds
// a list index when it is all digits and a key otherwise.
export function pathSegments(path: string): Segment[] {
  const out: Segment[] = [];
  const re = /\[([^\]]*)\]|([^.[\]]+)/g;
  for (let m = re.exec(path); m !== null; m = re.exec(path)) {
    if (m[2] !== undefined) out.push(m[2]);
    else out.push(/^\d+$/.test(m[1]) ? Number(m[1]) : m[1]);
  }
  return out;
}

function lineEnd(text: string, from: number, limit: number): number {
  const nl = text.indexOf("\n", from);
  const end = nl === -1 ? text.length : nl;
  return Math.max(from, Math.min(end, limit));
}

function rangeOf(node: unknown): [number, number, number] | null {
  const r = (node as YamlNode | null)?.range;
  return r ? r : null;
}

// What to underline for a found node: "key: value" when it fits on a line, just the key when
// the value is a block below it, and the first line of a list item that is itself a block.
function mark(text: string, key: unknown, value: unknown): { from: number; to: number } | null {
  const k = rangeOf(key);
  const v = rangeOf(value);
  const blockValue = isCollection(value) && !value.flow;
  if (k && (!v || blockValue || v[1] <= v[0])) return { from: k[0], to: Math.max(k[0], k[1]) };
  if (k && v) return { from: k[0], to: Math.max(k[0], v[1]) };
  if (v) return { from: v[0], to: blockValue ? lineEnd(text, v[0], v[1]) : Math.max(v[0], v[1]) };
  return null;
}

function keyMatches(key: unknown, name: Segment): boolean {
  const k = isScalar(key) ? key.value : key;
  return k !== null && k !== undefined && String(k) === String(name);
}

export function locate(text: string, docIndex: number, path: string): { from: number; to: number } | null {
  const entry = parsedCached(text)[docIndex];
  if (!entry) return null;
  const start = span(entry.doc).from;
  let best = { from: start, to: lineEnd(text, start, text.length) };
  let node: unknown = entry.doc.contents;
  for (const seg of pathSegments(path)) {
    let key: unknown = null;
    let next: unknown = undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyMatches(p.key, seg));
      if (!pair) break;
      key = pair.key;
      next = pair.value;
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      next = node.items[seg];
    } else {
      break;
    }
    const found = mark(text, key, next);
    if (found) best = found;
    node = next;
  }
  return best;
}

// kubectl's layout: block style, list items level with their key, long strings kept on one
// line, and strings such as "yes" or "0777" quoted so YAML 1.1 readers (kubectl among them)
// read them as strings too.
export function toYaml(objects: unknown[]): string {
  return objects
    .map((o) =>
      stringify(o ?? null, {
        indentSeq: false,
        lineWidth: 0,
        aliasDuplicateObjects: false,
        compat: "yaml-1.1",
      }),
    )
    .join("---\n");
}
