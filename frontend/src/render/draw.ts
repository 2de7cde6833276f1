// Draw functions.  Each takes the layer it owns and one config object, and makes the layer
// show exactly that; objects are kept per id, so a frame changes only what changed.

import { BitmapText, Container, Graphics, type Renderer, Sprite, type Texture } from "pixi.js";
import type { PacketPosition, Flow } from "../animation/packets";
import type { ComponentBox, MachineBox, PodTile } from "../scene/layout";
import { TILE } from "../scene/layout";
import {
  COMPONENT_FILL, HOPS, INK, MASTER_FILL, MUTED, NOT_READY, OFF_FILL, PHASES, type Shape, SELECTED, WORKER_FILL, phaseStyle,
} from "./palette"; // prettier-ignore

export interface Layers {
  world: Container;
  machines: Container;
  pods: Container;
  flows: Graphics;
  packets: Container;
  marks: Graphics;
  textures: Map<string, Texture>;
  boxes: Map<string, { g: Graphics; label: BitmapText; key: string }>;
  tiles: Map<string, Sprite>;
  tileKeys: Map<string, string>;
  dots: Sprite[];
}

function shapeGraphic(shape: Shape, size: number): Graphics {
  const g = new Graphics();
  const h = size / 2;
  switch (shape) {
    case "circle":
      g.circle(h, h, h).fill(0xffffff);
      break;
    case "square":
      g.rect(0, 0, size, size).fill(0xffffff);
      break;
    case "diamond":
      g.poly([h, 0, size, h, h, size, 0, h]).fill(0xffffff);
      break;
    case "triangle":
      g.poly([h, 0, size, size, 0, size]).fill(0xffffff);
      break;
    case "cross":
      g.poly([0, 2, 2, 0, h, h - 2, size - 2, 0, size, 2, h + 2, h, size, size - 2, size - 2, size, h, h + 2, 2, size, 0, size - 2, h - 2, h]).fill(0xffffff);
      break;
    case "ring":
      g.circle(h, h, h - 1).stroke({ width: 2, color: 0xffffff });
      break;
  }
  return g;
}

export function createLayers(renderer: Renderer, stage: Container): Layers {
  const world = new Container();
  const machines = new Container();
  const pods = new Container();
  const flows = new Graphics();
  const packets = new Container();
  const marks = new Graphics();
  world.addChild(machines, flows, pods, packets, marks);
  machines.cacheAsTexture({ resolution: 1, antialias: true });
  stage.addChild(world);
  const textures = new Map<string, Texture>();
  for (const shape of new Set(Object.values(PHASES).map((p) => p.shape))) {
    textures.set(shape, renderer.generateTexture({ target: shapeGraphic(shape, TILE), resolution: 2 }));
  }
  textures.set("dot", renderer.generateTexture({ target: new Graphics().circle(4, 4, 4).fill(0xffffff), resolution: 2 }));
  return { world, machines, pods, flows, packets, marks, textures, boxes: new Map(), tiles: new Map(), tileKeys: new Map(), dots: [] };
}

function boxKey(b: MachineBox | ComponentBox): string {
  return b.kind === "machine" ? `${b.x},${b.y},${b.running},${b.ready},${b.status}` : `${b.x},${b.y},${b.running}`;
}

export interface MachinesConfig {
  machines: MachineBox[];
  components: ComponentBox[];
}

export function drawMachines(l: Layers, cfg: MachinesConfig): void {
  const seen = new Set<string>();
  let changed = false;
  for (const b of [...cfg.machines, ...cfg.components]) {
    seen.add(b.id);
    const key = boxKey(b);
    let entry = l.boxes.get(b.id);
    if (entry && entry.key === key) continue;
    changed = true;
    if (!entry) {
      const g = new Graphics();
      // Names are drawn as text, whatever characters they hold.  Bitmap text shares one glyph
      // atlas, so hundreds of labels draw in a few batches instead of one texture each.
      const label = new BitmapText({ text: "", style: { fontFamily: "sans-serif", fontSize: b.kind === "machine" ? 13 : 11, fill: 0xffffff } });
      l.machines.addChild(g, label);
      entry = { g, label, key: "" };
      l.boxes.set(b.id, entry);
    }
    entry.key = key;
    const { g, label } = entry;
    g.clear();
    if (b.kind === "machine") {
      const fill = !b.running ? OFF_FILL : b.role === "master" ? MASTER_FILL : WORKER_FILL;
      const edge = b.running && b.ready === false ? NOT_READY : b.role === "master" ? 0x326ce5 : MUTED;
      g.roundRect(b.x, b.y, b.w, b.h, 8).fill(fill).stroke({ width: b.ready === false ? 3 : 1.5, color: edge });
      label.text = `${b.name}  ·  ${b.status}`;
      label.tint = b.ready === false ? NOT_READY : INK;
      label.position.set(b.x + 10, b.y + 5);
    } else {
      g.roundRect(b.x, b.y, b.w, b.h, 4)
        .fill(b.running ? COMPONENT_FILL : OFF_FILL)
        .stroke({ width: 1, color: b.running ? 0x9fb3c8 : MUTED });
      if (!b.running) g.moveTo(b.x + 4, b.y + b.h / 2).lineTo(b.x + b.w - 4, b.y + b.h / 2).stroke({ width: 1, color: MUTED });
      label.text = b.name;
      label.tint = b.running ? INK : MUTED;
      label.position.set(b.x + 6, b.y + 2);
    }
  }
  for (const [id, entry] of l.boxes) {
    if (seen.has(id)) continue;
    entry.g.destroy();
    entry.label.destroy();
    l.boxes.delete(id);
    changed = true;
  }
  // Machines change rarely and are most of what is drawn: keep them as one cached texture.
  if (changed) l.machines.updateCacheTexture();
}

export interface PodsConfig {
  pods: PodTile[];
  /** Pods outside the followed object's journey are dimmed; null follows nothing. */
  focus: Set<string> | null;
}

export function drawPods(l: Layers, cfg: PodsConfig): void {
  const seen = new Set<string>();
  for (const p of cfg.pods) {
    seen.add(p.uid);
    let s = l.tiles.get(p.uid);
    if (!s) {
      s = new Sprite();
      l.pods.addChild(s);
      l.tiles.set(p.uid, s);
    }
    const alpha = cfg.focus && !cfg.focus.has(p.uid) ? 0.2 : 1;
    const key = `${p.phase},${p.x},${p.y},${alpha}`;
    if (l.tileKeys.get(p.uid) === key) continue;
    l.tileKeys.set(p.uid, key);
    const style = phaseStyle(p.phase);
    s.texture = l.textures.get(style.shape)!;
    s.tint = style.color;
    s.width = TILE;
    s.height = TILE;
    s.position.set(p.x, p.y);
    s.alpha = alpha;
  }
  for (const [uid, s] of l.tiles) {
    if (seen.has(uid)) continue;
    s.destroy();
    l.tiles.delete(uid);
    l.tileKeys.delete(uid);
  }
}

export interface PacketsConfig {
  packets: PacketPosition[];
  flows: Iterable<Flow>;
  focus: Set<string> | null;
}

export function drawPackets(l: Layers, cfg: PacketsConfig): void {
  const dot = l.textures.get("dot")!;
  while (l.dots.length < cfg.packets.length) {
    const s = new Sprite(dot);
    s.anchor.set(0.5);
    l.packets.addChild(s);
    l.dots.push(s);
  }
  cfg.packets.forEach((p, i) => {
    const s = l.dots[i];
    s.visible = true;
    s.position.set(p.x, p.y);
    s.tint = HOPS[p.style] ?? INK;
    const big = p.style === "failed" || p.style === "write";
    s.scale.set(big ? 1.1 : 0.8);
    s.alpha = cfg.focus && !p.about.some((u) => cfg.focus!.has(u)) ? 0.15 : 1;
  });
  for (let i = cfg.packets.length; i < l.dots.length; i++) l.dots[i].visible = false;
  l.flows.clear();
  for (const f of cfg.flows) {
    l.flows
      .moveTo(f.from.x, f.from.y)
      .lineTo(f.to.x, f.to.y)
      .stroke({ width: Math.min(12, 1 + Math.log2(1 + f.rate)), color: HOPS[f.style] ?? INK, alpha: 0.5 });
  }
}

export interface MarksConfig {
  selected: { x: number; y: number; w: number; h: number } | null;
  hover: { x: number; y: number; w: number; h: number } | null;
}

export function drawMarks(l: Layers, cfg: MarksConfig): void {
  l.marks.clear();
  if (cfg.hover) l.marks.rect(cfg.hover.x - 2, cfg.hover.y - 2, cfg.hover.w + 4, cfg.hover.h + 4).stroke({ width: 1, color: MUTED });
  if (cfg.selected) {
    const r = cfg.selected;
    l.marks.rect(r.x - 3, r.y - 3, r.w + 6, r.h + 6).stroke({ width: 2.5, color: SELECTED });
  }
}
