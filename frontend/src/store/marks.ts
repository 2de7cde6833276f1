// A launched scenario's steps, marked on the timeline where they happened.
//
// The scenario runner writes each step into the cluster as an Event (reason ScenarioStep or
// ScenarioStepFailed, from kubeviz-scenario).  Those Events come down the stream like any
// other write; a mark is the instant one was shown, so scrubbing to a mark replays the step
// and what it caused.

import type { Message } from "../api/types";

export interface Mark {
  /** The instant (player clock, ms) the step's Event was shown. */
  at: number;
  /** The Event's name, scenario-step-<i>: one mark per step even if the Event is written again. */
  name: string;
  note: string;
  ok: boolean;
}

const REASONS: Record<string, boolean> = { ScenarioStep: true, ScenarioStepFailed: false };
/** A scenario has at most 100 steps; the bound keeps a long-lived page's list small anyway. */
export const MAX_MARKS = 200;

/** The step marks among `messages`, shown at instant `at`. */
export function marksIn(messages: readonly Message[], at: number): Mark[] {
  const out: Mark[] = [];
  for (const m of messages) {
    if (m.type !== "event" || m.event !== "ADDED" || m.kind !== "Event" || m.group !== "") continue;
    const reason = m.object.reason;
    if (typeof reason !== "string" || !(reason in REASONS)) continue;
    const source = (m.object.source as { component?: string } | undefined)?.component;
    if (source !== "kubeviz-scenario") continue;
    out.push({ at, name: m.name, note: String(m.object.message ?? ""), ok: REASONS[reason] });
  }
  return out;
}

/** Add `found` to `marks` (a step already marked keeps its first instant); drop what is before `since`. */
export function keepMarks(marks: readonly Mark[], found: readonly Mark[], since: number): Mark[] {
  const names = new Set(marks.map((m) => m.name));
  const next = [...marks];
  for (const m of found) {
    if (names.has(m.name)) continue;
    names.add(m.name);
    next.push(m);
  }
  return next.filter((m) => m.at >= since).slice(-MAX_MARKS);
}

/** Where instant `at` sits on a scrubber that runs from `start` (0) to `now` (1). */
export function position(at: number, start: number, now: number): number {
  if (now <= start) return 1;
  return Math.min(1, Math.max(0, (at - start) / (now - start)));
}
