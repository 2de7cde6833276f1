// The one set of moving things.  Each hop becomes a packet keyed by a number; a frame asks
// where every live packet is.  When more packets fly than can be read, a hop adds to its
// edge's flow rate instead, and the renderer draws that rate as the edge's thickness.

import { HOP_MS, type Hop, type HopStyle } from "./flows";

export interface Packet {
  key: number;
  hop: Hop;
  start: number; // playback ms
}

export interface Flow {
  from: { x: number; y: number };
  to: { x: number; y: number };
  style: HopStyle;
  rate: number; // hops per second, decaying
  touched: number;
}

export interface PacketState {
  next: number;
  packets: Map<number, Packet>;
  flows: Map<string, Flow>;
}

/** More packets in flight than this and hops are aggregated per edge. */
export const MAX_PACKETS = 400;
const FLOW_HALF_LIFE = 1_000;

export function newPackets(): PacketState {
  return { next: 1, packets: new Map(), flows: new Map() };
}

export function launch(s: PacketState, hops: Hop[], now: number): void {
  for (const hop of hops) {
    if (s.packets.size >= MAX_PACKETS) {
      const flow = s.flows.get(hop.edge) ?? { from: hop.from, to: hop.to, style: hop.style, rate: 0, touched: now };
      decay(flow, now);
      flow.rate += 1;
      s.flows.set(hop.edge, flow);
      continue;
    }
    s.packets.set(s.next, { key: s.next, hop, start: now + hop.delay });
    s.next++;
  }
}

function decay(flow: Flow, now: number): void {
  flow.rate *= Math.pow(0.5, (now - flow.touched) / FLOW_HALF_LIFE);
  flow.touched = now;
}

export interface PacketPosition {
  key: number;
  x: number;
  y: number;
  style: HopStyle;
  about: string[];
}

/** Where each packet is at `now`; finished packets and faded flows are dropped. */
export function positions(s: PacketState, now: number): PacketPosition[] {
  const out: PacketPosition[] = [];
  for (const [key, p] of s.packets) {
    const t = (now - p.start) / HOP_MS;
    if (t >= 1) {
      s.packets.delete(key);
      continue;
    }
    if (t < 0) continue;
    const e = t < 0.5 ? 2 * t * t : 1 - Math.pow(-2 * t + 2, 2) / 2; // ease in and out
    out.push({
      key,
      x: p.hop.from.x + (p.hop.to.x - p.hop.from.x) * e,
      y: p.hop.from.y + (p.hop.to.y - p.hop.from.y) * e,
      style: p.hop.style,
      about: p.hop.about,
    });
  }
  for (const [edge, flow] of s.flows) {
    decay(flow, now);
    if (flow.rate < 0.05) s.flows.delete(edge);
  }
  return out;
}
