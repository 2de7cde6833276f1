// The cluster page: stream → store → player → scene → render, in one animation loop.

import "./style.css";
import { Application } from "pixi.js";
import { hopsFor, indexScene, type Hop } from "./animation/flows";
import { launch, newPackets, positions } from "./animation/packets";
import { advance, arrive, lag, newPlayer, setSpeed, type Speed } from "./animation/player";
import { connect, streamUrl, type StreamStatus } from "./api/stream";
import type { Message } from "./api/types";
import { h } from "./panels/dom";
import { renderInspector, type Selection } from "./panels/inspector";
import { setupCreate } from "./panels/create";
import { renderList } from "./panels/list";
import { setupConnect, setupShare } from "./panels/share";
import { setupStory } from "./panels/story";
import { configureActions, renderWorkloads } from "./panels/workloads";
import { createLayers, drawMachines, drawMarks, drawPackets, drawPods } from "./render/draw";
import { type Item, itemAt, layout, type Scene } from "./scene/layout";
import { type ClusterState, descendants, emptyState, reduce } from "./store/cluster";
import { keepMarks, type Mark, marksIn, position } from "./store/marks";
import { earliest, newTimeline, record, rewind } from "./store/timeline";
import { readHash, type View, writeHash } from "./view";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Hash ids name things by name, so a shared URL means the same thing after a reload. */
function hashId(item: Item | null): string {
  if (!item) return "";
  if (item.kind === "pod") return `pod:${item.namespace}/${item.name}`;
  return item.id;
}

function findByHashId(scene: Scene, id: string): Item | null {
  if (!id) return null;
  if (id.startsWith("pod:")) return scene.pods.find((p) => `pod:${p.namespace}/${p.name}` === id) ?? null;
  return scene.machines.find((m) => m.id === id) ?? scene.components.find((c) => c.id === id) ?? null;
}

async function main(): Promise<void> {
  const cluster = document.body.dataset.cluster ?? "";
  const mode = document.body.dataset.mode ?? "owner"; // owner | edit | view (a live link's)
  const host = $("canvas");
  const app = new Application();
  // No multisampling of the whole canvas: with software GL it multiplies the cost of every
  // covered pixel.  Shapes stay smooth: tiles and dots are textures drawn at twice their
  // size, and the machines layer is cached with its own antialiasing.
  await app.init({ resizeTo: host, background: 0xf6f8fb, antialias: false, autoDensity: true, resolution: window.devicePixelRatio || 1 });
  host.append(app.canvas);
  app.canvas.setAttribute("aria-hidden", "true"); // the list view carries the same state as text
  const layers = createLayers(app.renderer, app.stage);

  let live: ClusterState = emptyState(cluster);
  let shown: ClusterState = emptyState(cluster);
  let timeline = newTimeline(shown, performance.now());
  const player = newPlayer(performance.now());
  const packets = newPackets();
  let view: View = readHash(location.hash);
  let scene: Scene = layout(shown, { namespace: view.namespace });
  let index = indexScene(scene);
  let dirty = true;
  let listDirty = true;
  let clock = 0; // animation ms: stands still while paused, runs slow in slow motion
  let status: StreamStatus = "connecting";
  const frameTimes: number[] = [];
  const intervals: number[] = [];
  const hopCounts: Record<string, number> = {};
  const revisionUid = new Map<number, string>();
  /** The object a request or a delivery is about, for "follow": by revision, else by name. */
  const aboutOf = (m: Message): string | undefined => {
    if (m.type === "delivered") return revisionUid.get(m.revision);
    if (m.type !== "request" || !view.follow) return undefined; // only following needs to know
    if (m.revision !== null && revisionUid.has(m.revision)) return revisionUid.get(m.revision);
    if (!m.name) return undefined;
    for (const o of shown.objects.values()) if (o.resource === m.resource && o.name === m.name && o.namespace === m.namespace) return o.uid;
    return undefined;
  };
  const pixelLatency: number[] = [];

  // --- the stream -----------------------------------------------------------------------
  connect({
    url: streamUrl(location, cluster),
    since: () => (live.revision > 0 ? live.revision : null),
    onMessages: (messages: Message[]) => {
      live = reduce(live, messages, Date.now());
      arrive(player, { at: performance.now(), messages });
    },
    onStatus: (s) => {
      status = s;
      $("status").textContent = s === "gone" ? "this cluster no longer exists" : s;
    },
  });

  // --- acting on the cluster: forms, editor, actions, sharing, the story ---------------------
  const editable = mode !== "view";
  const create = editable ? setupCreate($<HTMLDialogElement>("create-dialog"), cluster) : null;
  configureActions({ cluster, editable, edit: (yaml, title) => create?.open({ yaml, mode: "replace", title }) });
  document.getElementById("open-create")?.addEventListener("click", () => create?.open());
  const share = setupShare($<HTMLDialogElement>("share-dialog"), cluster, mode);
  $("open-share").addEventListener("click", () => share.open());
  const connectDialog = setupConnect($<HTMLDialogElement>("connect-dialog"), cluster);
  $("open-connect").addEventListener("click", () => connectDialog.open());
  const toast = $("note-toast");
  let toastTimer = 0;
  const showNote = (note: string) => {
    toast.textContent = note;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = window.setTimeout(() => (toast.hidden = true), 12_000);
  };
  setupStory($("story"), cluster, showNote);

  // --- view state -----------------------------------------------------------------------
  const applyZoom = () => {
    layers.world.scale.set(view.zoom);
    layers.world.position.set(view.x, view.y);
  };
  const saveView = () => {
    const hash = writeHash(view);
    view = readHash(hash); // keep exactly what the URL holds, so a reload is the same view
    applyZoom();
    history.replaceState(null, "", hash);
  };
  applyZoom();

  const select = (id: string) => {
    view.selected = id;
    saveView();
    showInspector();
    listDirty = true;
  };

  const selection = (): Selection | null => {
    const item = findByHashId(scene, view.selected);
    if (!item) return null;
    if (item.kind === "pod") return { kind: "pod", object: shown.objects.get(item.uid)! };
    if (item.kind === "component") return { kind: "component", machine: item.machine, name: item.name };
    return { kind: "machine", name: item.name };
  };
  const showInspector = () => renderInspector($("inspector"), shown, selection(), Date.now());

  const focus = (): Set<string> | null => {
    let set: Set<string> | null = null;
    if (view.follow) {
      const [kind, rest] = view.follow.split(":", 2);
      const target = [...shown.objects.values()].find((o) => o.kind === kind && `${o.namespace}/${o.name}` === rest);
      if (target) set = descendants(shown, target.uid);
    }
    if (view.search) {
      const q = view.search.toLowerCase();
      const hits = new Set(scene.pods.filter((p) => p.name.toLowerCase().includes(q)).map((p) => p.uid));
      set = set ? new Set([...set].filter((u) => hits.has(u))) : hits;
    }
    return set;
  };

  // --- controls -------------------------------------------------------------------------
  const pause = $<HTMLButtonElement>("pause");
  pause.addEventListener("click", () => {
    player.paused = !player.paused;
    pause.textContent = player.paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(player.paused));
  });
  $<HTMLSelectElement>("speed").addEventListener("change", (e) => {
    const v = (e.target as HTMLSelectElement).value;
    setSpeed(player, (v === "live" ? "live" : Number(v)) as Speed, performance.now());
  });
  const nsSelect = $<HTMLSelectElement>("namespace");
  nsSelect.addEventListener("change", () => {
    view.namespace = nsSelect.value;
    saveView();
    dirty = true;
  });
  const search = $<HTMLInputElement>("search");
  search.value = view.search;
  search.addEventListener("input", () => {
    view.search = search.value.trim();
    saveView();
    dirty = true;
  });
  const follow = $<HTMLSelectElement>("follow");
  follow.addEventListener("change", () => {
    view.follow = follow.value;
    saveView();
    dirty = true;
  });
  const scrub = $<HTMLInputElement>("timeline");
  scrub.addEventListener("pointerdown", () => {
    scrub.title = `${Math.round((performance.now() - earliest(timeline)) / 1000)} s kept`;
  });
  scrub.addEventListener("change", () => {
    const now = performance.now();
    const start = earliest(timeline);
    if (Number(scrub.value) >= 1000) {
      setSpeed(player, "live", now); // the right end is now
      ($<HTMLSelectElement>("speed")).value = "live";
      return;
    }
    seek(start + ((now - start) * Number(scrub.value)) / 1000, now);
  });
  /** Show the cluster as it was at instant `at`, and play on from there. */
  function seek(at: number, now: number) {
    const { state, after } = rewind(timeline, at);
    shown = state;
    player.pending = [...after, ...player.pending];
    player.position = at;
    if (player.speed === "live") setSpeed(player, 1, now);
    ($<HTMLSelectElement>("speed")).value = String(player.speed);
    dirty = true;
    listDirty = true;
  }

  // A launched scenario's steps, marked on the scrubber; a mark replays its step.
  const markBar = $("timeline-marks");
  let marks: Mark[] = [];
  let marksDrawn = 0;
  const markButtons = new Map<string, HTMLButtonElement>();
  const showMarks = (now: number) => {
    const start = earliest(timeline);
    marks = keepMarks(marks, [], start);
    // Buttons are kept while their step is: moving them (not rebuilding) keeps keyboard focus.
    const names = new Set(marks.map((m) => m.name));
    for (const [name, b] of markButtons) {
      if (names.has(name)) continue;
      b.remove();
      markButtons.delete(name);
    }
    marks.forEach((m, i) => {
      let b = markButtons.get(m.name);
      if (!b) {
        b = h("button", { type: "button", class: m.ok ? "mark" : "mark failed", title: m.note, "aria-label": `Replay step ${i + 1}: ${m.note}` }) as HTMLButtonElement;
        b.addEventListener("click", () => {
          const from = earliest(timeline);
          seek(Math.max(from, m.at - 300), performance.now());
          scrub.value = String(Math.round(position(m.at, from, performance.now()) * 1000));
          showNote(m.note);
        });
        markButtons.set(m.name, b);
        markBar.append(b);
      }
      b.style.left = `${position(m.at, start, now) * 100}%`;
    });
    markBar.hidden = marks.length === 0;
    marksDrawn = now;
  };
  $("zoom-in").addEventListener("click", () => zoomAt(1.25, host.clientWidth / 2, host.clientHeight / 2));
  $("zoom-out").addEventListener("click", () => zoomAt(0.8, host.clientWidth / 2, host.clientHeight / 2));
  $("zoom-fit").addEventListener("click", fit);

  function zoomAt(factor: number, sx: number, sy: number) {
    userMoved = true;
    const z = Math.min(4, Math.max(0.1, view.zoom * factor));
    view.x = sx - ((sx - view.x) * z) / view.zoom;
    view.y = sy - ((sy - view.y) * z) / view.zoom;
    view.zoom = z;
    applyZoom();
    saveView();
  }
  let userMoved = false; // once the user pans or zooms, the view is theirs
  window.addEventListener("resize", () => {
    if (!userMoved) requestAnimationFrame(fit);
  });
  function fit() {
    if (!scene.width) return;
    // A fit runs a frame late; by then the URL may hold a view the page has not read yet (a
    // link followed within the page).  Only the zoom and position are the fit's to change.
    const zoom = Math.min(2, Math.max(0.1, Math.min(host.clientWidth / scene.width, host.clientHeight / scene.height)));
    view = { ...readHash(location.hash), zoom, x: 0, y: 0 };
    applyZoom();
    saveView();
  }

  // --- pointer and keys -----------------------------------------------------------------
  const tooltip = $("tooltip");
  const toWorld = (ev: PointerEvent | WheelEvent) => {
    const r = app.canvas.getBoundingClientRect();
    return { sx: ev.clientX - r.left, sy: ev.clientY - r.top, x: (ev.clientX - r.left - view.x) / view.zoom, y: (ev.clientY - r.top - view.y) / view.zoom };
  };
  let drag: { x: number; y: number; moved: boolean } | null = null;
  let hover: Item | null = null;
  app.canvas.addEventListener("pointerdown", (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, moved: false };
  });
  window.addEventListener("pointerup", (ev) => {
    if (drag && !drag.moved && ev.target === app.canvas) {
      const p = toWorld(ev);
      select(hashId(itemAt(scene, p.x, p.y)));
    }
    if (drag?.moved) saveView();
    drag = null;
  });
  app.canvas.addEventListener("pointermove", (ev) => {
    if (drag) {
      const dx = ev.clientX - drag.x;
      const dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3 || drag.moved) {
        drag.moved = true;
        userMoved = true;
        view.x += dx;
        view.y += dy;
        drag.x = ev.clientX;
        drag.y = ev.clientY;
        applyZoom();
      }
      return;
    }
    const p = toWorld(ev);
    hover = itemAt(scene, p.x, p.y);
    if (hover) {
      tooltip.hidden = false;
      tooltip.textContent = `${hover.kind === "pod" ? `${hover.namespace}/${hover.name}` : hover.name} — ${hover.status}`;
      tooltip.style.left = `${p.sx + 14}px`;
      tooltip.style.top = `${p.sy + 14}px`;
    } else tooltip.hidden = true;
  });
  app.canvas.addEventListener("pointerleave", () => {
    hover = null;
    tooltip.hidden = true;
  });
  app.canvas.addEventListener(
    "wheel",
    (ev) => {
      ev.preventDefault();
      const p = toWorld(ev);
      zoomAt(ev.deltaY < 0 ? 1.1 : 1 / 1.1, p.sx, p.sy);
    },
    { passive: false },
  );
  window.addEventListener("keydown", (ev) => {
    const target = ev.target as HTMLElement;
    if (target.closest("input, select, textarea, [contenteditable], dialog")) return;
    // With a dialog open, keys are the dialog's, even when focus fell back to the page (a
    // button that disabled itself): Escape must close the dialog, not clear the selection.
    if (document.querySelector("dialog[open]")) return;
    if ((ev.key === " " || ev.key === "Enter") && target.closest("button, summary, a")) return; // theirs
    const step = 60;
    const keys: Record<string, () => void> = {
      ArrowLeft: () => (view.x += step),
      ArrowRight: () => (view.x -= step),
      ArrowUp: () => (view.y += step),
      ArrowDown: () => (view.y -= step),
      "+": () => zoomAt(1.25, host.clientWidth / 2, host.clientHeight / 2),
      "=": () => zoomAt(1.25, host.clientWidth / 2, host.clientHeight / 2),
      "-": () => zoomAt(0.8, host.clientWidth / 2, host.clientHeight / 2),
      "0": fit,
      " ": () => pause.click(),
      Escape: () => select(""),
      "/": () => search.focus(),
    };
    const act = keys[ev.key];
    if (!act) return;
    ev.preventDefault();
    act();
    applyZoom();
    saveView();
  });
  window.addEventListener("hashchange", () => {
    view = readHash(location.hash);
    nsSelect.value = view.namespace;
    search.value = view.search;
    follow.value = view.follow;
    applyZoom();
    dirty = true;
    showInspector();
  });

  // --- the one loop -----------------------------------------------------------------------
  let lastList = 0;
  let shownLag = "";
  let focused: Set<string> | null = null;
  const listView = $<HTMLDetailsElement>("list-view");
  listView.addEventListener("toggle", () => {
    listDirty = true;
    lastList = 0;
  });
  let lastInspector = 0;
  let fitted = view.zoom !== 1 || view.x !== 0 || view.y !== 0;
  userMoved = fitted;
  app.ticker.add((ticker) => {
    const t0 = performance.now();
    intervals.push(ticker.elapsedMS); // uncapped (deltaMS stops at 100 ms)
    if (intervals.length > 100_000) intervals.splice(0, 50_000);
    const out = advance(player, t0, ticker.deltaMS);
    const factor = player.paused ? 0 : player.speed === "live" ? 1 : player.speed;
    clock += ticker.deltaMS * factor;
    let newMarks: Mark[] = [];
    for (const a of out.skipped) {
      shown = reduce(shown, a.messages, Date.now());
      record(timeline, { at: player.position, messages: a.messages }, shown);
      newMarks = newMarks.concat(marksIn(a.messages, player.position));
      dirty = true;
    }
    const animate: Message[] = [];
    for (const a of out.animate) {
      shown = reduce(shown, a.messages, Date.now());
      record(timeline, { at: player.position, messages: a.messages }, shown);
      newMarks = newMarks.concat(marksIn(a.messages, player.position));
      for (const m of a.messages) {
        if (m.type === "event") {
          revisionUid.set(m.revision, m.uid); // so the watch packets of this write can be followed
          if (revisionUid.size > 20_000) revisionUid.delete(revisionUid.keys().next().value as number);
        }
        if (m.type === "snapshot") timeline = newTimeline(shown, player.position);
        else animate.push(m);
      }
      dirty = true;
    }
    if (dirty) {
      scene = layout(shown, { namespace: view.namespace });
      index = indexScene(scene);
      drawMachines(layers, scene);
      focused = focus(); // the owner graph is walked once per change, not once per frame
      drawPods(layers, { pods: scene.pods, focus: focused });
      listDirty = true;
      dirty = false;
      if (!fitted && scene.width) {
        fitted = true;
        requestAnimationFrame(fit); // after this frame, when the page has its final size
      }
    }
    if (newMarks.length) marks = keepMarks(marks, newMarks, earliest(timeline));
    if (newMarks.length || (marks.length && t0 - marksDrawn > 1000)) showMarks(t0);
    const hops: Hop[] = [];
    for (const m of animate) hops.push(...hopsFor(index, m, aboutOf(m)));
    for (const hop of hops) hopCounts[hop.style] = (hopCounts[hop.style] ?? 0) + 1;
    launch(packets, hops, clock);
    drawPackets(layers, { packets: positions(packets, clock), flows: packets.flows.values(), focus: focused });
    const sel = findByHashId(scene, view.selected);
    drawMarks(layers, { selected: sel, hover });
    if (listDirty && t0 - lastList > 1000) {
      if (listView.open) renderList($("list"), scene, view.selected, select);
      renderWorkloads($("workloads"), shown);
      refreshChoices();
      listDirty = false;
      lastList = t0;
    }
    if (sel && t0 - lastInspector > 3000 && out.animate.length) {
      lastInspector = t0;
      showInspector();
    }
    // Text is written only when it changes: a DOM write per frame costs a style pass per frame.
    const behind = lag(player, t0);
    const lagText = player.paused ? "paused" : behind > 500 ? `${(behind / 1000).toFixed(1)} s behind live` : status === "open" ? "live" : "";
    if (lagText !== shownLag) $("lag").textContent = shownLag = lagText;
    const drawn = performance.now();
    // Event to pixel: from a message's arrival to the end of the frame that drew it (live only).
    if (player.speed === "live") for (const a of out.animate) if (a.messages.some((m) => m.type === "event")) pixelLatency.push(drawn - a.at);
    if (pixelLatency.length > 10_000) pixelLatency.splice(0, 5_000);
    frameTimes.push(drawn - t0);
    if (frameTimes.length > 10_000) frameTimes.splice(0, 5_000);
  });

  function refreshChoices() {
    const namespaces = [...new Set([...shown.objects.values()].filter((o) => o.kind === "Namespace").map((o) => o.name))].sort();
    const opts = ["", ...namespaces];
    if (nsSelect.options.length !== opts.length || [...nsSelect.options].some((o, i) => o.value !== opts[i])) {
      nsSelect.replaceChildren(...opts.map((n) => h("option", { value: n }, n || "all namespaces")));
      nsSelect.value = view.namespace;
    }
    const owners = [...shown.objects.values()]
      .filter((o) => ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet"].includes(o.kind))
      .map((o) => `${o.kind}:${o.namespace}/${o.name}`)
      .sort();
    const fopts = ["", ...owners];
    if (follow.options.length !== fopts.length || [...follow.options].some((o, i) => o.value !== fopts[i])) {
      follow.replaceChildren(...fopts.map((n) => h("option", { value: n }, n ? n.replace(":", " ") : "follow nothing")));
      follow.value = view.follow;
    }
  }

  // --- a read-only hook for tests: what is drawn, as data --------------------------------
  (window as unknown as { kubeviz: unknown }).kubeviz = {
    scene: () => ({
      machines: scene.machines.map(({ name, role, status, ready, running }) => ({ name, role, status, ready, running })),
      components: scene.components.map(({ machine, name, running }) => ({ machine, name, running })),
      pods: scene.pods.map(({ namespace, name, node, phase, x, y }) => ({ namespace, name, node, phase, x, y })),
      packets: packets.packets.size,
      flows: packets.flows.size,
      drawnTiles: layers.tiles.size,
    }),
    revision: () => ({ live: live.revision, shown: shown.revision }),
    view: () => ({ ...view }),
    frames: () => frameTimes.slice(),
    intervals: () => intervals.slice(),
    hops: () => ({ ...hopCounts }),
    latency: () => pixelLatency.slice(),
    player: () => ({ paused: player.paused, speed: player.speed, pending: player.pending.length }),
    toScreen: (x: number, y: number) => {
      const r = app.canvas.getBoundingClientRect();
      return { x: r.left + view.x + x * view.zoom, y: r.top + view.y + y * view.zoom };
    },
  };
  showInspector();
}

main().catch((err: Error) => {
  const box = document.getElementById("status");
  if (box) box.textContent = `the canvas could not start: ${err.message}`;
  throw err;
});
