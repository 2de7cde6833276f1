import { describe, expect, it } from "vitest";
import type { Message } from "../api/types";
import { emptyState, reduce } from "./cluster";
import { MAX_MESSAGES, newTimeline, record, rewind } from "./timeline";

const add = (revision: number, name: string): Message => ({
  type: "event", event: "ADDED", kind: "ConfigMap", group: "", resource: "configmaps", namespace: "default", name, uid: name, revision,
  object: { kind: "ConfigMap", metadata: { name, namespace: "default", uid: name } },
}); // prettier-ignore

describe("timeline", () => {
  it("rewinds to any kept instant and hands back what came after, in order", () => {
    let s = reduce(emptyState(), [{ type: "snapshot", cluster: "c", revision: 1, machines: [], objects: [] }], 0);
    const t = newTimeline(s, 0, 60_000, 1_000);
    for (let i = 0; i < 10; i++) {
      const arrival = { at: 500 * (i + 1), messages: [add(2 + i, `cm${i}`)] };
      s = reduce(s, arrival.messages, arrival.at);
      record(t, arrival, s);
    }
    const { state, after } = rewind(t, 2_600); // arrivals at 500 … 2500 are in
    expect(state.revision).toBe(6);
    expect([...state.objects.keys()]).toEqual(["cm0", "cm1", "cm2", "cm3", "cm4"]);
    expect(after.map((a) => a.at)).toEqual([3000, 3500, 4000, 4500, 5000]);
    // Playing `after` again reaches the same state as before the rewind.
    const replayed = after.reduce((st, a) => reduce(st, a.messages, a.at), state);
    expect([...replayed.objects.keys()]).toEqual([...s.objects.keys()]);
  });

  it("forgets what is older than its window", () => {
    let s = emptyState();
    const t = newTimeline(s, 0, 2_000, 500);
    for (let i = 1; i <= 20; i++) {
      const arrival = { at: 250 * i, messages: [add(i, `cm${i}`)] };
      s = reduce(s, arrival.messages, arrival.at);
      record(t, arrival, s);
    }
    expect(t.arrivals[0].at).toBeGreaterThanOrEqual(5_000 - 2_000 - 500);
    const { state } = rewind(t, t.arrivals[0].at);
    expect(state.revision).toBe(t.arrivals[0].messages[0].type === "event" ? (t.arrivals[0].messages[0] as { revision: number }).revision : -1);
  });

  it("keeps at most its message budget at high rates, and still rebuilds every kept instant", () => {
    let s = reduce(emptyState(), [{ type: "snapshot", cluster: "c", revision: 1, machines: [], objects: [] }], 0);
    const t = newTimeline(s, 0, 60 * 60_000, 1_000);
    const perArrival = 100;
    let revision = 1;
    for (let i = 1; i <= (3 * MAX_MESSAGES) / perArrival; i++) {
      const messages = Array.from({ length: perArrival }, () => add(++revision, `cm${revision % 50}`));
      const arrival = { at: 100 * i, messages };
      s = reduce(s, messages, arrival.at);
      record(t, arrival, s);
    }
    expect(t.messages).toBeLessThanOrEqual(MAX_MESSAGES + 10 * perArrival); // one checkpoint's slack
    expect(t.messages).toBe(t.arrivals.reduce((n, a) => n + a.messages.length, 0));
    const first = t.arrivals[0];
    const { state } = rewind(t, first.at);
    expect(state.revision).toBe((first.messages[perArrival - 1] as { revision: number }).revision);
  });
});
