// The last minutes of what was shown, so the picture can be scrubbed back.  States are never
// changed once made (see reduce), so a checkpoint is only a reference.

import type { Arrival } from "../animation/player";
import { type ClusterState, reduce } from "./cluster";

export interface Timeline {
  /** Applied arrivals, oldest first, after the first checkpoint. */
  arrivals: Arrival[];
  /** States after the arrivals up to their instant; the first is the earliest instant kept. */
  checkpoints: { at: number; state: ClusterState }[];
  /** Messages held in `arrivals`. */
  messages: number;
  keepMs: number;
  everyMs: number;
}

/** At high rates the window is cut by size: this many messages at most (plus one checkpoint's). */
export const MAX_MESSAGES = 50_000;

export function newTimeline(start: ClusterState, at: number, keepMs = 5 * 60_000, everyMs = 5_000): Timeline {
  return { arrivals: [], checkpoints: [{ at, state: start }], messages: 0, keepMs, everyMs };
}

/** Record an arrival that was just applied, and `after`, the state it led to. */
export function record(t: Timeline, arrival: Arrival, after: ClusterState): void {
  t.arrivals.push(arrival);
  t.messages += arrival.messages.length;
  const last = t.checkpoints[t.checkpoints.length - 1];
  if (arrival.at - last.at >= t.everyMs) t.checkpoints.push({ at: arrival.at, state: after });
  // Forget from the front, a checkpoint at a time, so what is kept can always be rebuilt:
  // the first checkpoint's state already holds every arrival dropped before it.
  const horizon = arrival.at - t.keepMs;
  while (t.checkpoints.length > 1 && (t.checkpoints[1].at <= horizon || t.messages > MAX_MESSAGES)) {
    t.checkpoints.shift();
    const cut = t.checkpoints[0].at;
    let n = 0;
    while (n < t.arrivals.length && t.arrivals[n].at <= cut) t.messages -= t.arrivals[n++].messages.length;
    t.arrivals.splice(0, n);
  }
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
  t.messages = keep.reduce((n, a) => n + a.messages.length, 0);
  t.checkpoints = t.checkpoints.slice(0, i + 1);
  return { state, after };
}
