// A launched scenario's story: its description, its steps as they run, and whether the end
// state has been reached.  Notes come from the server's record of the steps it ran.

import MarkdownIt from "markdown-it";
import { story } from "../api/web";
import { h } from "./dom";

// Markdown without raw HTML: a scenario's text is shown, never run.
const md = new MarkdownIt({ html: false, linkify: true });

export function renderMarkdown(text: string): string {
  return md.render(text);
}

interface Step { index: number; at: number; note: string; action: string; done: boolean; ok: boolean | null; message: string }
interface Expect { kind: string; name: string; field: string; equals: unknown; actual?: unknown; ok?: boolean }

export function setupStory(panel: HTMLElement, cluster: string, onStep: (note: string) => void): void {
  let seen = -1;
  let shownDescription = false;
  const tick = async () => {
    const { ok, body } = await story(cluster).catch(() => ({ ok: false, body: null }));
    if (!ok) {
      if (body?.code === 404) return; // not launched from a scenario: no story to tell
      setTimeout(tick, 5000);
      return;
    }
    panel.hidden = false;
    const steps = body.steps as Step[];
    const list = h("ol", { class: "steps" });
    for (const s of steps) {
      if (!s.note) continue;
      list.append(h("li", { class: s.done ? (s.ok === false ? "failed" : "done") : "todo" }, h("span", { class: "at" }, `${s.at}s`), ` ${s.note}`, s.ok === false ? ` (${s.message})` : ""));
      if (s.done && s.index > seen) {
        seen = s.index;
        onStep(s.note);
      }
    }
    const body_ = h("div", {});
    if (!shownDescription) {
      const desc = h("div", { class: "description" });
      desc.innerHTML = renderMarkdown(body.description ?? ""); // markdown-it with html: false escapes all markup
      shownDescription = true;
      panel.replaceChildren(h("h2", {}, body.title), desc, body_);
    } else {
      panel.querySelector(".story-live")?.remove();
      panel.append(body_);
    }
    body_.className = "story-live";
    body_.append(list);
    if (body.paused) {
      const go = h("button", { type: "button", id: "story-continue", class: "primary" }, "Continue");
      go.addEventListener("click", () => void story(cluster, true).then(tick));
      body_.append(h("p", {}, "The story waits for you. ", go));
    }
    const expect = (body.expect ?? []) as Expect[];
    if (expect.length) {
      body_.append(
        h("h3", {}, body.reached ? "End state reached" : "End state"),
        h("ul", { class: "expect" }, ...expect.map((e) => h("li", { class: e.ok ? "done" : "todo" }, `${e.kind} ${e.name}: ${e.field} = ${JSON.stringify(e.equals)}${e.ok ? " ✓" : e.actual !== undefined ? ` (now ${JSON.stringify(e.actual)})` : ""}`))),
      );
    }
    if (!body.reached) setTimeout(tick, 2000);
  };
  void tick();
}
