// The last minutes of what was shown, so the picture can be scrubbed back.  States are never
// changed once made (see reduce), so a checkpoint is only a reference.

import type { Arrival } from "../animation/player";
import { type ClusterState, reduce } from "./cluster";

export interface Timeline {
  /** Applied arrivals, oldest first, within `keepMs` of the newest. */
  arrivals: Arrival[];
  checkpoints: { at: number; state: ClusterState }[];
  keepMs: number;
  everyMs: number;
}

export const MAX_ARRIVALS = 20_000;

export function newTimeline(start: ClusterState, at: number, keepMs = 5 * 60_000, everyMs = 5_000): Timeline {
  return { arrivals: [], checkpoints: [{ at, state: start }], keepMs, everyMs };
}

/** Record an arrival that was just applied, and `after`, the state it led to. */
export function record(t: Timeline, arrival: Arrival, after: ClusterState): void {
  t.arrivals.push(arrival);
  const last = t.checkpoints[t.checkpoints.length - 1];
  if (arrival.at - last.at >= t.everyMs) t.checkpoints.push({ at: arrival.at, state: after });
  const horizon = arrival.at - t.keepMs;
  // Keep one checkpoint at or before the oldest arrival kept, so every kept instant rebuilds.
  while (t.checkpoints.length > 1 && t.checkpoints[1].at <= horizon) t.checkpoints.shift();
  const oldest = t.checkpoints[0].at;
  let drop = 0;
  while (drop < t.arrivals.length && (t.arrivals[drop].at <= oldest || t.arrivals.length - drop > MAX_ARRIVALS)) drop++;
  if (drop) t.arrivals.splice(0, drop);
  if (t.arrivals.length && t.arrivals[0].at < t.checkpoints[0].at) t.checkpoints[0] = { at: t.arrivals[0].at - 1, state: t.checkpoints[0].state };
}

export function earliest(t: Timeline): number {
  return t.checkpoints[0].at;
}

/**
 * The state as shown at instant `at`, and the arrivals after it (to be played again).
 * The timeline is cut at `at`: what comes after is handed back, not kept twice.
 */
export function rewind(t: Timeline, at: number): { state: ClusterState; after: Arrival[] } {
  let i = t.checkpoints.length - 1;
  while (i > 0 && t.checkpoints[i].at > at) i--;
  const base = t.checkpoints[i];
  let state = base.state;
  const keep: Arrival[] = [];
  const after: Arrival[] = [];
  for (const a of t.arrivals) {
    if (a.at <= at) {
      if (a.at > base.at) state = reduce(state, a.messages, a.at);
      keep.push(a);
    } else after.push(a);
  }
  t.arrivals = keep;
  t.checkpoints = t.checkpoints.slice(0, i + 1);
  return { state, after };
}
