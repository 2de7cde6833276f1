// Colours from the Okabe–Ito set, which stays distinguishable with colour blindness; every
// phase also has its own shape, and its name is in the tooltip and the list view.

export const PHASES: Record<string, { color: number; shape: Shape; label: string }> = {
  Running: { color: 0x009e73, shape: "circle", label: "Running" },
  Pending: { color: 0xe69f00, shape: "square", label: "Pending" },
  Succeeded: { color: 0x56b4e9, shape: "diamond", label: "Succeeded" },
  Failed: { color: 0xd55e00, shape: "cross", label: "Failed" },
  CrashLoopBackOff: { color: 0xcc79a7, shape: "triangle", label: "CrashLoopBackOff" },
  Terminating: { color: 0x999999, shape: "ring", label: "Terminating" },
  Unknown: { color: 0x000000, shape: "square", label: "Unknown" },
};

export type Shape = "circle" | "square" | "diamond" | "cross" | "triangle" | "ring";

export function phaseStyle(phase: string) {
  return PHASES[phase] ?? PHASES.Unknown;
}

export const HOPS: Record<string, number> = {
  request: 0x0072b2,
  failed: 0xd55e00,
  write: 0xe69f00,
  replicate: 0xf0e442,
  watch: 0x009e73,
  local: 0xcc79a7,
};

export const INK = 0x1d2733;
export const MUTED = 0x8a97a6;
export const MASTER_FILL = 0xe8eefb;
export const WORKER_FILL = 0xffffff;
export const NOT_READY = 0xd55e00;
export const OFF_FILL = 0xd9dde3;
export const COMPONENT_FILL = 0xf3f6fa;
export const SELECTED = 0x0072b2;
