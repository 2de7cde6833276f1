import { describe, expect, it } from "vitest";
import { DEFAULT_VIEW, readHash, writeHash } from "./view";

describe("view hash", () => {
  it("round-trips every field, names with odd characters included", () => {
    const v = { selected: "pod:default/<script>&x=1", namespace: "kube-system", search: "web #1", follow: "Deployment:default/web", zoom: 1.5, x: -120, y: 40 };
    expect(readHash(writeHash(v))).toEqual(v);
  });

  it("reads an empty or broken hash as the default view", () => {
    expect(readHash("")).toEqual(DEFAULT_VIEW);
    expect(readHash("#z=banana&x=")).toEqual({ ...DEFAULT_VIEW, x: 0 });
    expect(readHash("#z=99").zoom).toBe(4);
  });
});
