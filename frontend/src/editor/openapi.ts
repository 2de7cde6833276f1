// The cluster's OpenAPI v3 schemas, fetched as the editor needs them.  The index at
// /k8s/<cluster>/openapi/v3 names one document per group-version; each document's URL carries
// a hash of its content, so a document fetched once never needs fetching again.

import type { Schema, SchemaIndex } from "./validate";

interface GroupVersionDoc {
  schemas: Record<string, Schema>;
  // "group/version/kind" → schema name; built on first use.
  kinds: Map<string, string> | null;
}

const REF_PREFIX = "#/components/schemas/";

/** "v1" → "api/v1", "apps/v1" → "apis/apps/v1"; null for anything else. */
export function groupVersionPath(apiVersion: string): string | null {
  const parts = apiVersion.split("/");
  if (parts.some((p) => p === "" || /\s/.test(p))) return null;
  if (parts.length === 1) return `api/${parts[0]}`;
  if (parts.length === 2) return `apis/${parts[0]}/${parts[1]}`;
  return null;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf("/");
  return i === -1 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kindsOf(doc: GroupVersionDoc): Map<string, string> {
  if (doc.kinds) return doc.kinds;
  const kinds = new Map<string, string>();
  for (const [name, schema] of Object.entries(doc.schemas)) {
    const gvks = schema["x-kubernetes-group-version-kind"];
    if (!Array.isArray(gvks)) continue;
    for (const gvk of gvks) {
      if (!isRecord(gvk)) continue;
      const key = `${gvk.group ?? ""}/${gvk.version}/${gvk.kind}`;
      // Shared kinds (DeleteOptions) are listed under many groups; the first name wins.
      if (!kinds.has(key)) kinds.set(key, name);
    }
  }
  doc.kinds = kinds;
  return kinds;
}

async function getJson(fetcher: typeof fetch, url: string): Promise<unknown> {
  const resp = await fetcher(url);
  if (!resp.ok) throw new Error(`could not load the API schema from ${url}: ${resp.status} ${resp.statusText}`.trim());
  return resp.json();
}

function schemasOf(body: unknown): Record<string, Schema> {
  const components = isRecord(body) ? body.components : undefined;
  const schemas = isRecord(components) ? components.schemas : undefined;
  const out: Record<string, Schema> = {};
  if (isRecord(schemas)) for (const [k, v] of Object.entries(schemas)) if (isRecord(v)) out[k] = v;
  return out;
}

/**
 * Schemas for one cluster.  load() fetches the index once and each group-version document once;
 * a failed fetch rejects (and is tried again on the next load) rather than passing for "this
 * kind does not exist".
 */
export function schemaIndex(cluster: string, fetcher?: typeof fetch): { load(apiVersions: string[]): Promise<SchemaIndex> } {
  const get = fetcher ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const indexUrl = `/k8s/${encodeURIComponent(cluster)}/openapi/v3`;
  let paths: Promise<Record<string, string>> | null = null;
  const documents = new Map<string, Promise<GroupVersionDoc>>(); // by serverRelativeURL
  const loaded = new Map<string, GroupVersionDoc>(); // by path, e.g. "apis/apps/v1"

  const readIndex = (): Promise<Record<string, string>> => {
    paths ??= getJson(get, indexUrl).then((body) => {
      const out: Record<string, string> = {};
      const listed = isRecord(body) ? body.paths : undefined;
      if (isRecord(listed)) {
        for (const [path, v] of Object.entries(listed)) {
          if (isRecord(v) && typeof v.serverRelativeURL === "string") out[path] = v.serverRelativeURL;
        }
      }
      return out;
    });
    paths.catch(() => (paths = null));
    return paths;
  };

  const readDocument = (url: string): Promise<GroupVersionDoc> => {
    let p = documents.get(url);
    if (!p) {
      p = getJson(get, url).then((body) => ({ schemas: schemasOf(body), kinds: null }));
      p.catch(() => documents.delete(url));
      documents.set(url, p);
    }
    return p;
  };

  const index: SchemaIndex = {
    find(apiVersion, kind) {
      const path = groupVersionPath(apiVersion);
      const doc = path ? loaded.get(path) : undefined;
      if (!doc) return null;
      const { group, version } = splitApiVersion(apiVersion);
      const name = kindsOf(doc).get(`${group}/${version}/${kind}`);
      if (name === undefined) return null;
      const resolve = (ref: string): Schema | undefined =>
        ref.startsWith(REF_PREFIX) ? doc.schemas[ref.slice(REF_PREFIX.length)] : undefined;
      return { schema: doc.schemas[name], resolve };
    },
  };

  return {
    async load(apiVersions) {
      const wanted = [...new Set(apiVersions.map(groupVersionPath).filter((p): p is string => p !== null))];
      if (wanted.length === 0) return index;
      const urls = await readIndex();
      await Promise.all(
        wanted
          .filter((path) => urls[path] !== undefined)
          .map(async (path) => {
            loaded.set(path, await readDocument(urls[path]));
          }),
      );
      return index;
    },
  };
}
