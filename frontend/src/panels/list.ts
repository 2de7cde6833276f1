// The same state as a text list, for screen readers and keyboards: machines, their
// components, their pods.  Each entry is a button that selects the item on the canvas.

import type { Scene } from "../scene/layout";
import { h } from "./dom";

export function renderList(root: HTMLElement, scene: Scene, selected: string, onSelect: (id: string) => void): void {
  const byMachine = new Map<string, { comps: Scene["components"]; pods: Scene["pods"] }>();
  for (const m of scene.machines) byMachine.set(m.name, { comps: [], pods: [] });
  for (const c of scene.components) byMachine.get(c.machine)?.comps.push(c);
  for (const p of scene.pods) byMachine.get(p.node)?.pods.push(p);
  const button = (id: string, text: string) => {
    const b = h("button", { type: "button", "data-id": id, "aria-pressed": String(id === selected) }, text);
    b.addEventListener("click", () => onSelect(id));
    return b;
  };
  const top = h("ul", {});
  for (const m of scene.machines) {
    const entry = byMachine.get(m.name)!;
    const comps = h("ul", { "aria-label": `components of ${m.name}` });
    for (const c of entry.comps) comps.append(h("li", {}, button(c.id, `${c.name}: ${c.status}`)));
    const pods = h("ul", { "aria-label": `pods on ${m.name}` });
    for (const p of entry.pods) pods.append(h("li", {}, button(p.id, `pod ${p.namespace}/${p.name}: ${p.phase}`)));
    top.append(h("li", {}, button(m.id, `${m.role} ${m.name}: ${m.status}`), comps, pods));
  }
  root.replaceChildren(top);
}
