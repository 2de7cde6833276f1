// The forms' calls: apply and actions (as kubeviz-web, with Django's CSRF token), share links,
// and a launched cluster's story.  Failures come back as Kubernetes Status objects.

export interface Cause { reason?: string; field?: string; message?: string }
export interface Status { kind: "Status"; code: number; reason: string; message: string; details?: { causes?: Cause[]; document?: number; name?: string; kind?: string } }
export interface DocOutcome { index: number; apiVersion: string; kind: string; name: string; namespace: string | null; result: string; status?: Status }
export interface ApplyReport { kind: "ApplyReport"; dryRun: boolean; applied: number; documents: DocOutcome[] }
export type ApplyAnswer = { ok: true; report: ApplyReport } | { ok: false; status: Status; report?: ApplyReport };

export function csrfToken(): string {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

const enc = encodeURIComponent;

async function send(method: string, url: string, body?: unknown, csrf = false): Promise<{ ok: boolean; body: any }> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (csrf) headers["X-CSRFToken"] = csrfToken();
  const resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  let parsed: any = null;
  try {
    parsed = await resp.json();
  } catch {
    parsed = { kind: "Status", code: resp.status, reason: resp.statusText, message: `${resp.status} ${resp.statusText}` };
  }
  return { ok: resp.ok, body: parsed };
}

export async function applyYaml(
  cluster: string,
  opts: { yaml: string; dryRun?: boolean; mode?: "apply" | "replace"; namespace?: string; force?: boolean },
): Promise<ApplyAnswer> {
  const { ok, body } = await send("POST", `/api/clusters/${enc(cluster)}/apply`, opts, true);
  if (ok) return { ok: true, report: body as ApplyReport };
  return { ok: false, status: body as Status, report: body?.report };
}

export interface ObjectRef { apiVersion: string; kind: string; namespace: string; name: string }

export async function act(
  cluster: string,
  ref: ObjectRef,
  action: "scale" | "delete" | "restart",
  extra: { replicas?: number; propagationPolicy?: string } = {},
): Promise<{ ok: boolean; body: any }> {
  return send("POST", `/api/clusters/${enc(cluster)}/actions`, { ...ref, action, ...extra }, true);
}

export async function createLink(cluster: string, mode: "view" | "edit"): Promise<{ ok: boolean; body: any }> {
  return send("POST", `/api/clusters/${enc(cluster)}/links`, { mode });
}

export async function shareScenario(cluster: string): Promise<{ ok: boolean; body: any }> {
  return send("POST", "/api/scenarios", { fromCluster: cluster });
}

export async function story(cluster: string, resume = false): Promise<{ ok: boolean; body: any }> {
  return send(resume ? "POST" : "GET", `/api/clusters/${enc(cluster)}/story${resume ? "/resume" : ""}`);
}

export async function launchScenario(slug: string): Promise<{ ok: boolean; body: any }> {
  return send("POST", `/api/scenarios/${enc(slug)}/launch`, {});
}

/** Put the words of a failure in front of a person: the message, then each named field. */
export function describeStatus(s: Status): string {
  return s.message || `${s.code} ${s.reason}`;
}
