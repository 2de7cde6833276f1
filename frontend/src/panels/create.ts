// The "Create" dialog: a form per kind with its YAML beside it, or the YAML editor.  Both send
// through the same endpoint (the Kubernetes API as kubeviz-web): a dry run first shows what
// would happen; Apply does it.  A failure is shown next to the field the server named.

import { applyYaml, type ApplyAnswer, type DocOutcome } from "../api/web";
import { locate, parseDocuments, toYaml } from "../editor/documents";
import { createEditor, type EditorHandle } from "../editor/editor";
import { schemaIndex } from "../editor/openapi";
import { diagnostics, validateDocs } from "../editor/validate";
import { renderForm, type FormHandle } from "../forms/render";
import { FORMS, formFor } from "../forms/kinds";
import { h } from "./dom";

const YAML_TAB = "YAML";
const RESULT_WORDS: Record<string, string> = {
  created: "created",
  configured: "changed",
  unchanged: "unchanged",
  failed: "failed",
  "not applied": "not applied",
};

export interface CreateDialog {
  open(opts?: { kind?: string; yaml?: string; mode?: "apply" | "replace"; title?: string }): void;
}

export function setupCreate(dialog: HTMLDialogElement, cluster: string): CreateDialog {
  const schemas = schemaIndex(cluster);
  let form: FormHandle | null = null;
  let editor: EditorHandle | null = null;
  let mode: "apply" | "replace" = "apply";
  let tab = "Deployment";

  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "What to create" });
  const title = h("h2", { id: "create-title" }, "Create");
  const formHost = h("div", { class: "form-host" });
  const preview = h("pre", { class: "yaml preview", "aria-label": "YAML preview", "aria-live": "off" });
  const editorHost = h("div", { class: "editor-host" });
  const result = h("div", { class: "apply-result", role: "status", "aria-live": "polite" });
  const dry = h("button", { type: "button", id: "dry-run" }, "Dry run");
  const apply = h("button", { type: "button", id: "apply", class: "primary" }, "Apply");
  const close = h("button", { type: "button", class: "close", "aria-label": "Close" }, "×");
  dialog.replaceChildren(
    h("header", {}, title, close),
    tabs,
    h("div", { class: "create-body" }, formHost, preview, editorHost),
    h("footer", {}, dry, apply),
    result,
  );
  close.addEventListener("click", () => dialog.close());

  const check = async (text: string) => {
    const docs = parseDocuments(text);
    const versions = [...new Set(docs.map((d) => (d.object as { apiVersion?: string })?.apiVersion).filter((v): v is string => typeof v === "string"))];
    const index = await schemas.load(versions);
    return diagnostics(text, docs, validateDocs(docs, index));
  };

  const currentText = (): string => (tab === YAML_TAB ? editor?.text() ?? "" : toYaml([form!.manifest()]));

  function showTab(name: string, yaml?: string) {
    tab = name;
    for (const b of tabs.querySelectorAll("button")) b.setAttribute("aria-selected", String(b.textContent === name));
    result.replaceChildren();
    const yamlTab = name === YAML_TAB;
    formHost.hidden = yamlTab;
    preview.hidden = yamlTab;
    editorHost.hidden = !yamlTab;
    if (yamlTab) {
      const text = yaml ?? (form ? toYaml([form.manifest()]) : "");
      if (!editor) editor = createEditor(editorHost, { text, check, label: "Manifest YAML (several documents may be separated by ---)" });
      else editor.setText(text);
      return;
    }
    const spec = formFor(name)!;
    form = renderForm(formHost, spec, { onChange: (_v, manifest) => (preview.textContent = toYaml([manifest])) });
    preview.textContent = toYaml([form.manifest()]);
  }

  for (const name of [...FORMS.map((f) => f.kind), YAML_TAB]) {
    const b = h("button", { type: "button", role: "tab", "data-tab": name }, name);
    b.addEventListener("click", () => {
      mode = "apply";
      showTab(name);
    });
    tabs.append(b);
  }

  function outcomeLine(o: DocOutcome, dryRun: boolean): HTMLElement {
    const what = `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`;
    const word = RESULT_WORDS[o.result] ?? o.result;
    const text = dryRun && o.result !== "failed" && o.result !== "not applied" ? `would be ${word}` : word;
    return h("li", { class: `outcome ${o.result.replace(" ", "-")}` }, `Document ${o.index + 1}: ${what} — ${text}`);
  }

  function show(answer: ApplyAnswer, text: string) {
    result.replaceChildren();
    form?.clearErrors();
    editor?.showProblems([]);
    const report = answer.report;
    if (answer.ok) {
      result.append(h("p", { class: "ok" }, answer.report.dryRun ? "The dry run passed: nothing was written." : `Applied ${answer.report.applied} document(s).`));
    } else {
      result.append(h("p", { class: "error", role: "alert" }, answer.status.message));
      const causes = answer.status.details?.causes ?? [];
      const docIndex = answer.status.details?.document ?? 0;
      if (tab !== YAML_TAB && form) {
        const left = form.showErrors(causes.map((c) => ({ field: c.field ?? "", message: c.message ?? "" })));
        if (left.length) result.append(h("ul", { class: "error" }, ...left.map((c) => h("li", {}, `${c.field}: ${c.message}`))));
      } else if (editor) {
        editor.showProblems(
          causes.map((c) => ({ ...(locate(text, docIndex, c.field ?? "") ?? { from: 0, to: 0 }), message: `${c.field}: ${c.message}`, severity: "error" as const })),
        );
        if (causes.length) result.append(h("ul", { class: "error" }, ...causes.map((c) => h("li", {}, `${c.field}: ${c.message}`))));
      }
    }
    if (report && report.documents.length) result.append(h("ol", { class: "outcomes" }, ...report.documents.map((o) => outcomeLine(o, report.dryRun))));
  }

  async function submit(dryRun: boolean) {
    const text = currentText();
    const namespace = tab !== YAML_TAB && form ? String(form.values().namespace ?? "default") || "default" : "default";
    dry.setAttribute("disabled", "");
    apply.setAttribute("disabled", "");
    result.replaceChildren(h("p", { class: "muted" }, dryRun ? "Asking the apiserver for a dry run…" : "Applying…"));
    try {
      show(await applyYaml(cluster, { yaml: text, dryRun, mode, namespace }), text);
    } catch (e) {
      result.replaceChildren(h("p", { class: "error", role: "alert" }, `The request did not reach kubeviz: ${(e as Error).message}`));
    } finally {
      dry.removeAttribute("disabled");
      apply.removeAttribute("disabled");
    }
  }
  dry.addEventListener("click", () => void submit(true));
  apply.addEventListener("click", () => void submit(false));

  return {
    open(opts = {}) {
      mode = opts.mode ?? "apply";
      title.textContent = opts.title ?? "Create";
      const name = opts.yaml !== undefined ? YAML_TAB : (opts.kind ?? (tab === YAML_TAB ? "Deployment" : tab));
      showTab(name, opts.yaml);
      if (!dialog.open) dialog.showModal();
    },
  };
}
