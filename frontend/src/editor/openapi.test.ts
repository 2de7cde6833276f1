import { describe, expect, it } from "vitest";
import { groupVersionPath, schemaIndex } from "./openapi";
import { appsV1, coreV1 } from "./fixtures/schemas";

// A fake server for the cluster "my cluster": the index and two group-version documents.
function fakeServer() {
  const calls: string[] = [];
  const bodies: Record<string, unknown> = {
    "/k8s/my%20cluster/openapi/v3": {
      paths: {
        "api/v1": { serverRelativeURL: "/k8s/my%20cluster/openapi/v3/api/v1?hash=A" },
        "apis/apps/v1": { serverRelativeURL: "/k8s/my%20cluster/openapi/v3/apis/apps/v1?hash=B" },
      },
    },
    "/k8s/my%20cluster/openapi/v3/api/v1?hash=A": coreV1,
    "/k8s/my%20cluster/openapi/v3/apis/apps/v1?hash=B": appsV1,
  };
  const fetcher = (async (input: RequestInfo | URL) => {
    const url = String(input);
    calls.push(url);
    const body = bodies[url];
    return new Response(JSON.stringify(body ?? { message: "not found" }), { status: body ? 200 : 404 });
  }) as typeof fetch;
  return { calls, fetcher };
}

describe("schemaIndex", () => {
  it("maps apiVersions to the index's paths", () => {
    expect(groupVersionPath("v1")).toBe("api/v1");
    expect(groupVersionPath("apps/v1")).toBe("apis/apps/v1");
    expect(groupVersionPath("a/b/c")).toBeNull();
    expect(groupVersionPath("")).toBeNull();
  });

  it("finds kinds by their group-version-kind and resolves their references", async () => {
    const { fetcher } = fakeServer();
    const index = await schemaIndex("my cluster", fetcher).load(["apps/v1", "v1"]);
    const deployment = index.find("apps/v1", "Deployment")!;
    expect(deployment.schema["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "Deployment", version: "v1" }]);
    expect(deployment.resolve("#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec")?.required).toEqual(["selector", "template"]);
    expect(index.find("v1", "ConfigMap")).not.toBeNull();
    expect(index.find("v1", "Deployment")).toBeNull();
    expect(index.find("apps/v1", "ConfigMap")).toBeNull();
  });

  it("fetches the index and each document once", async () => {
    const { calls, fetcher } = fakeServer();
    const schemas = schemaIndex("my cluster", fetcher);
    await schemas.load(["apps/v1"]);
    await Promise.all([schemas.load(["apps/v1", "v1"]), schemas.load(["v1", "apps/v1"])]);
    expect(calls.sort()).toEqual([
      "/k8s/my%20cluster/openapi/v3",
      "/k8s/my%20cluster/openapi/v3/api/v1?hash=A",
      "/k8s/my%20cluster/openapi/v3/apis/apps/v1?hash=B",
    ]);
  });

  it("answers null for group-versions the server does not list", async () => {
    const { calls, fetcher } = fakeServer();
    const index = await schemaIndex("my cluster", fetcher).load(["example.com/v1", "nonsense/a/b"]);
    expect(index.find("example.com/v1", "Widget")).toBeNull();
    expect(calls).toEqual(["/k8s/my%20cluster/openapi/v3"]);
  });

  it("rejects when the server cannot be reached, and tries again next time", async () => {
    let fail = true;
    const { fetcher } = fakeServer();
    const flaky = ((input: RequestInfo | URL) => (fail ? Promise.reject(new Error("offline")) : fetcher(input))) as typeof fetch;
    const schemas = schemaIndex("my cluster", flaky);
    await expect(schemas.load(["v1"])).rejects.toThrow("offline");
    fail = false;
    expect((await schemas.load(["v1"])).find("v1", "ConfigMap")).not.toBeNull();
  });
});
