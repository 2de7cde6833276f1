// The form engine: draws a FormSpec as an accessible <form>, keeps the values as they are
// typed, and reports every change with the manifest built from them.  When the API server
// rejects the manifest, showErrors() puts each message next to the field that wrote the
// offending path.  All text goes in through textContent (via h), so names are never markup.

import { h } from "../panels/dom";
import { activeFields, build, defaults, holds, toNumber, toRows, type Row, type Values } from "./build";
import { columnsOf, isRows, type ColumnSpec, type FieldSpec, type FormSpec } from "./kinds";

export interface FieldError {
  field: string;
  message: string;
}

export interface FormHandle {
  values(): Values;
  manifest(): Record<string, unknown>;
  /** Show the errors next to their fields; returns the ones no visible field claimed. */
  showErrors(errors: FieldError[]): FieldError[];
  clearErrors(): void;
}

// ---- which field claims a manifest path (pure) ----

/** Paths compare with map keys written as ".key": servers write both "requests[cpu]" and "requests.cpu". */
function normalizePath(path: string): string {
  return path.trim().replace(/\[([^\]]*)\]/g, (_, inner: string) => (/^\d+$/.test(inner) ? `[${inner}]` : `.${inner.replace(/^["']|["']$/g, "")}`));
}

function startsWithPath(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix + ".") || path.startsWith(prefix + "[");
}

function claim(fields: FieldSpec[], path: string): { field: FieldSpec; rest: string } | undefined {
  const p = normalizePath(path);
  let best: { field: FieldSpec; rest: string } | undefined;
  let bestLength = -1;
  for (const field of fields) {
    for (const prefix of field.paths) {
      const q = normalizePath(prefix);
      if (q.length > bestLength && startsWithPath(p, q)) {
        best = { field, rest: p.slice(q.length) };
        bestLength = q.length;
      }
    }
  }
  return best;
}

/** The field that claims a manifest path: the one with the longest matching path prefix. */
export function fieldFor(spec: FormSpec, path: string): FieldSpec | undefined {
  return path ? claim(spec.fields, path)?.field : undefined;
}

/** The row (and column) a path's remainder points at, e.g. "[1].nodePort" → {row: 1, col: "nodePort"}. */
export function rowOf(rest: string): { row: number; col?: string } | undefined {
  const m = /^\[(\d+)\](?:\.([^.[]+))?/.exec(rest);
  return m ? { row: Number(m[1]), col: m[2] } : undefined;
}

// ---- the DOM ----

const fieldId = (key: string) => `field-${key}`;

function asString(v: unknown): string {
  return v === null || v === undefined ? "" : String(v);
}

/** Normalize values so the editors can work on them in place: rows as records, lists as strings. */
function startingValues(spec: FormSpec, given: Values | undefined): Values {
  const state: Values = { ...defaults(spec), ...structuredClone(given ?? {}) };
  for (const f of spec.fields) {
    if (isRows(f.type)) state[f.key] = toRows(state[f.key]).map((r) => ({ ...r }));
    else if (f.type === "list") state[f.key] = Array.isArray(state[f.key]) ? (state[f.key] as unknown[]).map(asString) : [];
  }
  return state;
}

function selectBox(attrs: Record<string, string>, options: string[], value: string, blank?: string): HTMLSelectElement {
  const select = h("select", attrs) as HTMLSelectElement;
  if (blank !== undefined) select.append(h("option", { value: "" }, blank));
  for (const o of options) select.append(h("option", { value: o }, o));
  // A value the options do not know (passed in by a caller) is still shown rather than lost.
  if (value !== "" && !options.includes(value)) select.append(h("option", { value }, value));
  select.value = value;
  return select;
}

/** Reads a control the way the values keep it: numbers as numbers when they plainly are. */
function readControl(el: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, numeric: boolean): unknown {
  if (el instanceof HTMLInputElement && el.type === "checkbox") return el.checked;
  return numeric ? (toNumber(el.value) ?? "") : el.value;
}

function numberAttrs(min?: number, max?: number): Record<string, string> {
  const a: Record<string, string> = { inputmode: "numeric" };
  if (min !== undefined) a.min = String(min);
  if (max !== undefined) a.max = String(max);
  return a;
}

function cellControl(col: ColumnSpec, id: string, value: unknown): HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement {
  const attrs: Record<string, string> = { id, name: id, "data-col": col.key };
  if (col.placeholder) attrs.placeholder = col.placeholder;
  const v = asString(value ?? col.default);
  if (col.type === "select") return selectBox(attrs, col.options ?? [], v, col.blank);
  if (col.type === "textarea") {
    const ta = h("textarea", { ...attrs, rows: "2" }) as HTMLTextAreaElement;
    ta.value = v;
    return ta;
  }
  const input = h("input", { ...attrs, type: col.type === "number" ? "number" : "text", ...(col.type === "number" ? numberAttrs(col.min, col.max) : {}) }) as HTMLInputElement;
  input.value = v;
  return input;
}

interface View {
  field: FieldSpec;
  wrap: HTMLElement;
  /** Errors go right after this element. */
  anchor: HTMLElement;
  /** The element that aria-invalid marks when no single row is named. */
  control: HTMLElement;
  /** Re-apply `when` on columns after another field changed. */
  refresh(): void;
}

/** Draws a form for `spec` into `host` (replacing what was there) and returns a handle on it. */
export function renderForm(
  host: HTMLElement,
  spec: FormSpec,
  opts: { values?: Values; onChange: (values: Values, manifest: Record<string, unknown>) => void },
): FormHandle {
  const state = startingValues(spec, opts.values);
  const views = new Map<string, View>();
  const form = h("form", { class: "kv-form", novalidate: "", "data-kind": spec.kind }) as HTMLFormElement;
  // There is nowhere to post to: whoever shows the form listens for submit and sends the manifest.
  form.addEventListener("submit", (e) => e.preventDefault());

  const values = (): Values => structuredClone(state);
  const manifest = () => build(spec, state);

  const changed = () => {
    for (const v of views.values()) {
      v.wrap.hidden = !holds(v.field.when, state);
      v.refresh();
    }
    opts.onChange(values(), manifest());
  };

  const listen = (el: HTMLElement, update: () => void) => {
    const on = () => {
      update();
      changed();
    };
    el.addEventListener("input", on);
    el.addEventListener("change", on);
  };

  const helpFor = (f: FieldSpec): HTMLElement | null =>
    f.help ? h("p", { class: "field-help", id: `${fieldId(f.key)}-help` }, f.help) : null;

  const describe = (f: FieldSpec): Record<string, string> => (f.help ? { "aria-describedby": `${fieldId(f.key)}-help` } : {});

  function simpleField(f: FieldSpec): View {
    const id = fieldId(f.key);
    const attrs: Record<string, string> = { id, name: id, ...describe(f) };
    if (f.required) attrs["aria-required"] = "true";
    if (f.placeholder) attrs.placeholder = f.placeholder;
    let control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    const current = state[f.key];
    if (f.type === "select") {
      control = selectBox(attrs, f.options ?? [], asString(current));
    } else if (f.type === "textarea") {
      control = h("textarea", { ...attrs, rows: "2" }) as HTMLTextAreaElement;
      control.value = asString(current);
    } else if (f.type === "checkbox") {
      control = h("input", { ...attrs, type: "checkbox" }) as HTMLInputElement;
      control.checked = current === true;
    } else {
      const numeric = f.type === "number";
      control = h("input", { ...attrs, type: numeric ? "number" : "text", ...(numeric ? numberAttrs(f.min, f.max) : {}) }) as HTMLInputElement;
      control.value = asString(current);
    }
    const el = control;
    listen(el, () => (state[f.key] = readControl(el, f.type === "number")));
    const wrap = h("div", { class: `field field-${f.type}${f.required ? " required" : ""}`, "data-key": f.key }, h("label", { for: id }, f.label), el, helpFor(f));
    return { field: f, wrap, anchor: el, control: el, refresh: () => {} };
  }

  /** A growing list of rows (key/value, ports, env, tolerations) or of single values (list). */
  function rowsField(f: FieldSpec): View {
    const id = fieldId(f.key);
    const single = f.type === "list";
    const cols = columnsOf(f);
    const rows = h("div", { class: "kv-rows" });
    const wrap = h("fieldset", { class: `field field-${f.type}`, "data-key": f.key, id, name: id, ...describe(f) }, h("legend", {}, f.label), rows);
    const items = () => state[f.key] as unknown[];
    const add = h("button", { type: "button", class: "kv-add", "aria-label": `Add to ${f.label}` }, "Add");

    const hideColumns = () => {
      for (const col of cols) {
        const shown = holds(col.when, state);
        for (const c of rows.querySelectorAll<HTMLElement>(`.kv-cell[data-col="${col.key}"]`)) c.hidden = !shown;
      }
    };

    const draw = () => {
      rows.replaceChildren();
      items().forEach((item, i) => {
        const row = h("div", { class: "kv-row", "data-row": String(i) });
        if (single) {
          const cellId = `${id}-${i}`;
          const input = h("input", { id: cellId, name: cellId, type: "text", ...(f.placeholder ? { placeholder: f.placeholder } : {}) }) as HTMLInputElement;
          input.value = asString(item);
          listen(input, () => (items()[i] = input.value));
          row.append(h("span", { class: "kv-cell" }, h("label", { for: cellId }, `Value ${i + 1}`), input));
        } else {
          for (const col of cols) {
            const cellId = `${id}-${i}-${col.key}`;
            const control = cellControl(col, cellId, (item as Row)[col.key]);
            listen(control, () => ((item as Row)[col.key] = readControl(control, col.type === "number")));
            row.append(h("span", { class: "kv-cell", "data-col": col.key }, h("label", { for: cellId }, col.label), control));
          }
        }
        const remove = h("button", { type: "button", class: "kv-remove", "aria-label": `Remove ${f.label} row ${i + 1}` }, "Remove");
        remove.addEventListener("click", () => {
          items().splice(i, 1);
          draw();
          const next = rows.querySelectorAll<HTMLElement>(".kv-remove")[Math.min(i, items().length - 1)];
          (next ?? add).focus();
          changed();
        });
        row.append(remove);
        rows.append(row);
      });
      hideColumns();
    };

    add.addEventListener("click", () => {
      const fresh: Row = {};
      for (const col of cols) if (col.default !== undefined) fresh[col.key] = col.default;
      items().push(single ? "" : fresh);
      draw();
      rows.lastElementChild?.querySelector<HTMLElement>("input, select, textarea")?.focus();
      changed();
    });

    draw();
    wrap.append(add);
    const help = helpFor(f);
    if (help) wrap.append(help);
    return { field: f, wrap, anchor: rows, control: wrap, refresh: hideColumns };
  }

  // Fieldsets in the order their group first appears.
  const groups = new Map<string, HTMLElement>();
  for (const f of spec.fields) {
    const name = f.group ?? "Details";
    let set = groups.get(name);
    if (!set) {
      set = h("fieldset", { class: "field-group", "data-group": name }, h("legend", {}, name));
      groups.set(name, set);
    }
    const view = f.type === "list" || isRows(f.type) ? rowsField(f) : simpleField(f);
    view.wrap.hidden = !holds(f.when, state);
    views.set(f.key, view);
    set.append(view.wrap);
  }
  form.append(h("p", { class: "form-help" }, spec.help), ...groups.values());
  host.replaceChildren(form);

  // ---- server errors ----

  let marked: { el: HTMLElement; describedBy: string | null }[] = [];
  let errorCount = 0;

  const mark = (el: HTMLElement, errorId: string) => {
    if (!marked.some((m) => m.el === el)) marked.push({ el, describedBy: el.getAttribute("aria-describedby") });
    el.setAttribute("aria-invalid", "true");
    el.setAttribute("aria-describedby", [el.getAttribute("aria-describedby"), errorId].filter(Boolean).join(" "));
  };

  const clearErrors = () => {
    for (const e of form.querySelectorAll(".field-error")) e.remove();
    for (const { el, describedBy } of marked) {
      el.removeAttribute("aria-invalid");
      if (describedBy === null) el.removeAttribute("aria-describedby");
      else el.setAttribute("aria-describedby", describedBy);
    }
    marked = [];
  };

  const showErrors = (errors: FieldError[]): FieldError[] => {
    clearErrors();
    const visible = activeFields(spec, state);
    const unclaimed: FieldError[] = [];
    const lastError = new Map<string, HTMLElement>();
    for (const err of errors) {
      const hit = err.field ? claim(visible, err.field) : undefined;
      const view = hit && views.get(hit.field.key);
      if (!hit || !view) {
        unclaimed.push(err);
        continue;
      }
      const errorId = `${fieldId(hit.field.key)}-error-${++errorCount}`;
      const note = h("p", { class: "field-error", role: "alert", id: errorId }, err.message);
      (lastError.get(hit.field.key) ?? view.anchor).after(note);
      lastError.set(hit.field.key, note);
      // Point at the row (and cell) the path names when there is one, else the whole field.
      const at = rowOf(hit.rest);
      const row = at && view.anchor.querySelector<HTMLElement>(`.kv-row[data-row="${at.row}"]`);
      const targets = row
        ? [...row.querySelectorAll<HTMLElement>(at.col ? `[data-col="${at.col}"]:is(input, select, textarea)` : "input, select, textarea")]
        : [];
      if (row && !targets.length) targets.push(...row.querySelectorAll<HTMLElement>("input, select, textarea"));
      if (!targets.includes(view.control)) targets.push(view.control);
      for (const t of targets) mark(t, errorId);
    }
    return unclaimed;
  };

  return { values, manifest, showErrors, clearErrors };
}
