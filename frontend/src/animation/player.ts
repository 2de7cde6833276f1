// Playback time.  Messages arrive in real time; the player releases them on its own clock:
// at once in live mode, paced by their real arrival gaps in slow motion, not at all while
// paused.  It never invents a message and never reorders them.

import type { Message } from "../api/types";

export type Speed = 0.25 | 0.5 | 1 | 4 | "live";

export interface Arrival {
  at: number; // ms, real time of arrival
  messages: Message[];
}

export interface PlayerState {
  speed: Speed;
  paused: boolean;
  /** The real-time instant playback has reached. */
  position: number;
  pending: Arrival[];
}

/** Past this many waiting arrivals, the oldest are released without animation. */
export const MAX_PENDING = 5_000;

export function newPlayer(now: number): PlayerState {
  return { speed: "live", paused: false, position: now, pending: [] };
}

export function arrive(p: PlayerState, arrival: Arrival): void {
  p.pending.push(arrival);
}

export interface Released {
  animate: Arrival[];
  /** Released because too much was waiting: apply them, but do not draw their hops. */
  skipped: Arrival[];
}

/** Advance playback by `elapsed` real ms (the frame's duration) and release what is due. */
export function advance(p: PlayerState, now: number, elapsed: number): Released {
  const out: Released = { animate: [], skipped: [] };
  if (p.paused) return out;
  if (p.speed === "live") p.position = now;
  else p.position = Math.min(now, p.position + elapsed * p.speed);
  const excess = p.pending.length - MAX_PENDING;
  if (excess > 0) {
    out.skipped.push(...p.pending.splice(0, excess));
    if (p.speed !== "live") p.position = Math.max(p.position, p.pending[0]?.at ?? p.position);
  }
  let due = 0;
  while (due < p.pending.length && p.pending[due].at <= p.position) due++;
  out.animate.push(...p.pending.splice(0, due));
  return out;
}

export function setSpeed(p: PlayerState, speed: Speed, now: number): void {
  p.speed = speed;
  if (speed === "live") p.position = now;
  else if (p.pending.length) p.position = Math.min(p.position, p.pending[0].at);
}

/** How far behind the live cluster the picture is, in ms. */
export function lag(p: PlayerState, now: number): number {
  return p.pending.length ? now - p.pending[0].at : 0;
}
