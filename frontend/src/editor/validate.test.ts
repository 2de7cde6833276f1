import { describe, expect, it } from "vitest";
import { parseDocuments } from "./documents";
import { closest, diagnostics, validateDocs, validateObject, type Schema, type SchemaIndex } from "./validate";
import { appsV1, coreV1 } from "./fixtures/schemas";

const PREFIX = "#/components/schemas/";

// A SchemaIndex over the trimmed fixtures, the way openapi.ts builds one from the server.
function fixtureIndex(): SchemaIndex {
  const docs: Record<string, Record<string, Schema>> = { "apps/v1": appsV1.components.schemas, v1: coreV1.components.schemas };
  return {
    find(apiVersion, kind) {
      const schemas = docs[apiVersion];
      if (!schemas) return null;
      const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
      const entry = Object.values(schemas).find((s) =>
        ((s["x-kubernetes-group-version-kind"] as { group: string; version: string; kind: string }[] | undefined) ?? []).some(
          (g) => g.group === group && g.version === version && g.kind === kind,
        ),
      );
      if (!entry) return null;
      return { schema: entry, resolve: (ref) => (ref.startsWith(PREFIX) ? schemas[ref.slice(PREFIX.length)] : undefined) };
    },
  };
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  strategy:
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 1
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
        args: ["--port", "8080"]
        ports:
        - containerPort: 8080
          name: http
        env:
        - name: MODE
          value: production
        resources:
          limits:
            cpu: 500m
            memory: 1Gi
          requests:
            cpu: 0.25
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
status:
  replicas: 3
  somethingNew: true
`;

function check(text: string) {
  return validateDocs(parseDocuments(text), fixtureIndex());
}

function edit(from: string, to: string): string {
  if (!DEPLOYMENT.includes(from)) throw new Error(`not in the manifest: ${from}`);
  return DEPLOYMENT.replace(from, to);
}

describe("validateDocs on a Deployment", () => {
  it("passes a valid Deployment, status included", () => {
    expect(check(DEPLOYMENT)).toEqual([]);
  });

  it("names an unknown field and guesses the intended one", () => {
    const problems = check(edit("  replicas: 3", "  replica: 3"));
    expect(problems).toEqual([{ doc: 0, path: "spec.replica", message: expect.stringContaining('unknown field "replica"'), severity: "error" }]);
    expect(problems[0].message).toContain('did you mean "replicas"?');
  });

  it("says what type a field wants, at the Kubernetes field path", () => {
    const problems = check(edit("  replicas: 3", "  replicas: three"));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: "spec.replicas", severity: "error" });
    expect(problems[0].message).toBe('expected a whole number, got the text "three"');
    expect(check(edit("  replicas: 3", "  replicas: 2.5"))[0].message).toMatch(/whole number/);
    expect(check(edit("  replicas: 3", '  replicas: "3"'))[0].message).toMatch(/remove the quotes/);
    const env = check(edit("value: production", "value: 8080"));
    expect(env[0]).toMatchObject({ path: "spec.template.spec.containers[0].env[0].value" });
    expect(env[0].message).toMatch(/put it in quotes/);
  });

  it("reports missing required fields, down to the containers", () => {
    const noContainers = edit(
      `      containers:
      - name: web
        image: nginx:1.27
        args: ["--port", "8080"]
`,
      "      restartPolicy: Always\n      containers:\n",
    ).replace(/        ports:[\s\S]*?            port: http\n/, "");
    const problems = check(noContainers);
    expect(problems).toEqual([{ doc: 0, path: "spec.template.spec.containers", message: expect.stringMatching(/^missing required field "containers"/), severity: "error" }]);

    const noSelector = check(edit("  selector:\n    matchLabels:\n      app: web\n", ""));
    expect(noSelector.map((p) => p.path)).toEqual(["spec.selector"]);
    expect(noSelector[0].message).toContain("Label selector for pods");

    const noName = check(edit("      - name: web\n        image", "      - image"));
    expect(noName.map((p) => p.path)).toEqual(["spec.template.spec.containers[0].name"]);
  });

  it("accepts a number or a name for an IntOrString port, nothing else", () => {
    expect(check(DEPLOYMENT.replace("port: http", "port: 8080"))).toEqual([]);
    const bad = check(DEPLOYMENT.replace("port: http", "port: true"));
    expect(bad).toEqual([{ doc: 0, path: "spec.template.spec.containers[0].readinessProbe.httpGet.port", message: expect.stringContaining("a whole number or text"), severity: "error" }]);
    expect(check(DEPLOYMENT.replace("port: http", "port: [1]"))).toHaveLength(1);
  });

  it("accepts quantities as numbers or text, with map entries written limits[cpu]", () => {
    expect(check(edit("cpu: 500m", "cpu: 2"))).toEqual([]);
    const bad = check(edit("cpu: 500m", "cpu: {many: 2}"));
    expect(bad.map((p) => p.path)).toEqual(["spec.template.spec.containers[0].resources.limits[cpu]"]);
  });

  it("says when a list was written as an object", () => {
    const problems = check(edit('args: ["--port", "8080"]', "args: {port: 8080}"));
    expect(problems[0].message).toMatch(/expected a list .* got an object; start each item/);
  });

  it("lists several documents' problems with their indexes", () => {
    const text = `${DEPLOYMENT}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  n: 1\n`;
    expect(check(text)).toEqual([{ doc: 1, path: "data[n]", message: expect.stringContaining("expected text"), severity: "error" }]);
  });
});

describe("validateDocs on what comes before the schema", () => {
  it("requires apiVersion and kind, in words", () => {
    const problems = check("metadata:\n  name: x\n");
    expect(problems.map((p) => [p.path, p.severity])).toEqual([
      ["apiVersion", "error"],
      ["kind", "error"],
    ]);
    expect(problems[0].message).toBe("apiVersion is required: which API group and version this object belongs to, such as apps/v1");
  });

  it("warns about a kind the server does not serve, without other checks", () => {
    expect(check("apiVersion: apps/v1\nkind: Deploymint\nspec: {replica: 1}\n")).toEqual([
      { doc: 0, path: "kind", message: "the server does not serve kind Deploymint in apiVersion apps/v1", severity: "warning" },
    ]);
    expect(check("apiVersion: example.com/v1\nkind: Widget\n")[0].severity).toBe("warning");
    expect(check("apiVersion: v1\nkind: configMap\n")[0].message).toBe("the server does not serve kind configMap in apiVersion v1; did you mean ConfigMap?");
  });

  it("leaves documents with syntax errors to the parser, and rejects documents that are not objects", () => {
    expect(check("apiVersion: v1\nkind: ConfigMap\nkind: Secret\n")).toEqual([]);
    expect(check("- just\n- a list\n")[0].message).toMatch(/must be an object/);
  });
});

describe("a ConfigMap's data map", () => {
  const cm = (data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n${data}`;

  it("accepts any keys with text values", () => {
    expect(check(cm('  app.properties: "a=b"\n  LOG_LEVEL: debug\n  "weird key!": "1"\n'))).toEqual([]);
  });

  it("rejects values that are not text", () => {
    const problems = check(cm("  port: 8080\n  debug: true\n  nested: {a: b}\n"));
    expect(problems.map((p) => p.path)).toEqual(["data[port]", "data[debug]", "data[nested]"]);
    expect(problems[0].message).toBe("expected text, got the number 8080; put it in quotes to make it text");
  });
});

describe("validateObject with hand-written schemas", () => {
  const noRefs = () => undefined;

  it("checks enums and suggests the closest value", () => {
    const schema = { type: "object", properties: { policy: { type: "string", enum: ["Always", "IfNotPresent", "Never"] } } };
    expect(validateObject({ policy: "Never" }, schema, noRefs)).toEqual([]);
    const [p] = validateObject({ policy: "ifnotpresent" }, schema, noRefs, 4);
    expect(p).toMatchObject({ doc: 4, path: "policy", severity: "error" });
    expect(p.message).toContain('"Always", "IfNotPresent", "Never"');
    expect(p.message).toContain('did you mean "IfNotPresent"?');
  });

  it("lets anything through below x-kubernetes-preserve-unknown-fields, known fields still checked", () => {
    const schema = {
      type: "object",
      properties: {
        spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { size: { type: "integer" } } },
        raw: { "x-kubernetes-preserve-unknown-fields": true },
      },
    };
    expect(validateObject({ spec: { anything: [1, { deep: true }] }, raw: "text" }, schema, noRefs)).toEqual([]);
    expect(validateObject({ spec: { size: "big" } }, schema, noRefs).map((p) => p.path)).toEqual(["spec.size"]);
  });

  it("treats a bare object type as free-form and additionalProperties: false as closed", () => {
    expect(validateObject({ a: { b: 1 } }, { type: "object", properties: { a: { type: "object" } } }, noRefs)).toEqual([]);
    expect(validateObject({ x: 1 }, { type: "object", additionalProperties: false }, noRefs)).toHaveLength(1);
  });

  it("follows references and survives one that loops", () => {
    const schemas: Record<string, Schema> = {
      Node: { type: "object", properties: { value: { type: "integer" }, next: { $ref: "#/components/schemas/Node" } } },
      Loop: { $ref: "#/components/schemas/Loop" },
    };
    const resolve = (ref: string) => schemas[ref.slice(PREFIX.length)];
    expect(validateObject({ value: 1, next: { value: 2, next: { value: "x" } } }, schemas.Node, resolve).map((p) => p.path)).toEqual(["next.next.value"]);
    expect(validateObject({ a: 1 }, schemas.Loop, resolve)).toEqual([]);
  });
});

describe("closest", () => {
  it("guesses within two edits, swaps and case counting once", () => {
    expect(closest("replica", ["replicas", "selector"])).toBe("replicas");
    expect(closest("repilcas", ["replicas"])).toBe("replicas");
    expect(closest("ContainerPort", ["containerPort", "hostPort"])).toBe("containerPort");
    expect(closest("IMAGE", ["image"])).toBe("image");
    expect(closest("foo", ["replicas", "selector"])).toBeNull();
    expect(closest("ab", ["xy"])).toBeNull();
  });
});

describe("diagnostics", () => {
  it("turns problems and syntax errors into editor ranges", () => {
    const text = edit("  replicas: 3", "  replica: 3");
    const docs = parseDocuments(text);
    const [d] = diagnostics(text, docs, validateDocs(docs, fixtureIndex()));
    expect(text.slice(d.from, d.to)).toBe("replica: 3");
    expect(d.message).toMatch(/^spec\.replica: unknown field/);

    const broken = "a: 1\na: 2\n";
    const bd = parseDocuments(broken);
    expect(diagnostics(broken, bd, [])).toEqual([{ ...bd[0].errors[0], severity: "error" }]);
  });
});
