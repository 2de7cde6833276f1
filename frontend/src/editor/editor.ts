// The YAML editor: CodeMirror with YAML highlighting, problems underlined as the person types
// (from opts.check, which knows the cluster's schemas) and problems the server answered with
// (showProblems), both in one list so neither hides the other.

import { basicSetup } from "codemirror";
import { yaml } from "@codemirror/lang-yaml";
import { linter, lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { Annotation, EditorState, StateEffect, StateField, type Text } from "@codemirror/state";
import { EditorView } from "@codemirror/view";

export interface EditorProblem {
  from: number;
  to: number;
  message: string;
  severity: "error" | "warning";
}

export interface EditorHandle {
  text(): string;
  setText(text: string): void;
  focus(): void;
  showProblems(problems: EditorProblem[]): void;
  destroy(): void;
}

const setServerProblems = StateEffect.define<Diagnostic[]>();

// The server's problems follow the text they point at while the person edits, and stay until
// the next showProblems (or setText) replaces them: the message is most useful during the fix.
const serverProblems = StateField.define<Diagnostic[]>({
  create: () => [],
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setServerProblems)) return e.value;
    if (!tr.docChanged) return value;
    return value.map((d) => {
      const from = tr.changes.mapPos(d.from, 1);
      return { ...d, from, to: Math.max(from, tr.changes.mapPos(d.to, -1)) };
    });
  },
});

// setText is the program loading text, not the person editing it: no onChange for it.
const loading = Annotation.define<boolean>();

// Problems may come from an older text (a server answer, a slow check); CodeMirror rejects
// ranges outside the document.
function clamp(problems: readonly EditorProblem[], doc: Text): Diagnostic[] {
  return problems.map((p) => {
    const from = Math.min(Math.max(0, p.from), doc.length);
    const to = Math.min(Math.max(from, p.to), doc.length);
    return { from, to, message: p.message, severity: p.severity };
  });
}

export function createEditor(
  host: HTMLElement,
  opts: {
    text: string;
    onChange?: (text: string) => void;
    check?: (text: string) => Promise<EditorProblem[]>;
    label?: string;
  },
): EditorHandle {
  // The latest check's diagnostics and the document they were computed for, so showProblems
  // can redraw them next to the server's without waiting for another check.
  let checked: { doc: Text; diagnostics: Diagnostic[] } | null = null;

  const source = async (view: EditorView): Promise<Diagnostic[]> => {
    const doc = view.state.doc;
    let found: Diagnostic[] = [];
    if (opts.check) {
      // A check that fails (say, schemas unreachable) leaves only the server's problems.
      try {
        found = clamp(await opts.check(doc.toString()), doc);
      } catch {
        found = [];
      }
    }
    checked = { doc, diagnostics: found };
    return [...found, ...view.state.field(serverProblems)];
  };

  host.classList.add("kv-editor");
  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: opts.text,
      extensions: [
        basicSetup,
        yaml(),
        serverProblems,
        lintGutter(),
        linter(source, { delay: 300 }),
        EditorView.contentAttributes.of({ "aria-label": opts.label ?? "YAML" }),
        EditorView.updateListener.of((u) => {
          if (!u.docChanged || !opts.onChange) return;
          if (u.transactions.some((tr) => tr.annotation(loading))) return;
          opts.onChange(u.state.doc.toString());
        }),
      ],
    }),
  });

  return {
    text: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: text },
        effects: setServerProblems.of([]),
        annotations: loading.of(true),
      });
    },
    focus: () => view.focus(),
    showProblems(problems) {
      const server = clamp(problems, view.state.doc);
      view.dispatch({ effects: setServerProblems.of(server) });
      const current = checked && checked.doc === view.state.doc ? checked.diagnostics : [];
      view.dispatch(setDiagnostics(view.state, [...current, ...server]));
    },
    destroy() {
      view.destroy();
      host.classList.remove("kv-editor");
    },
  };
}
