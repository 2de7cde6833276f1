import { describe, expect, it } from "vitest";
import type { Message } from "../api/types";
import { MAX_MARKS, keepMarks, marksIn, position } from "./marks";

const event = (name: string, reason: string, message: string, component = "kubeviz-scenario", kind = "Event"): Message => ({
  type: "event", event: "ADDED", kind, group: "", resource: "events", namespace: "default", name, uid: name, revision: 1,
  object: { kind, metadata: { name, namespace: "default", uid: name }, reason, message, source: { component } },
}); // prettier-ignore

describe("scenario step marks", () => {
  it("finds the runner's step Events and nothing else", () => {
    const found = marksIn(
      [
        event("scenario-step-1", "ScenarioStep", "worker-2 is powered off"),
        event("scenario-step-2", "ScenarioStepFailed", "scale web (not found)"),
        event("web.1", "Scheduled", "assigned", "default-scheduler"),
        event("x", "ScenarioStep", "someone else's", "kubectl"),
        event("cm", "ScenarioStep", "not an Event", "kubeviz-scenario", "ConfigMap"),
        { type: "idle", revision: 3 } as unknown as Message,
      ],
      1234,
    );
    expect(found).toEqual([
      { at: 1234, name: "scenario-step-1", note: "worker-2 is powered off", ok: true },
      { at: 1234, name: "scenario-step-2", note: "scale web (not found)", ok: false },
    ]);
  });

  it("keeps one mark per step, at its first instant, and forgets what left the window", () => {
    let marks = keepMarks([], [{ at: 100, name: "scenario-step-0", note: "a", ok: true }], 0);
    marks = keepMarks(marks, [{ at: 900, name: "scenario-step-0", note: "a", ok: true }], 0);
    marks = keepMarks(marks, [{ at: 500, name: "scenario-step-1", note: "b", ok: true }], 0);
    expect(marks.map((m) => [m.name, m.at])).toEqual([["scenario-step-0", 100], ["scenario-step-1", 500]]);
    expect(keepMarks(marks, [], 200).map((m) => m.name)).toEqual(["scenario-step-1"]);
  });

  it("is bounded", () => {
    const many = Array.from({ length: MAX_MARKS + 1 }, (_, i) => ({ at: i, name: `scenario-step-${i}`, note: "", ok: true }));
    const kept = keepMarks([], many, 0);
    expect(kept).toHaveLength(MAX_MARKS);
    expect(kept[0].name).toBe("scenario-step-1");
  });

  it("places an instant on the scrubber", () => {
    expect(position(150, 100, 200)).toBe(0.5);
    expect(position(50, 100, 200)).toBe(0);
    expect(position(300, 100, 200)).toBe(1);
    expect(position(100, 100, 100)).toBe(1);
  });
});
