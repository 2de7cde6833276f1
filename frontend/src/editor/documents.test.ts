import { describe, expect, it } from "vitest";
import { locate, parseDocuments, pathSegments, toYaml } from "./documents";

const TEXT = `# leading comment
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/name: web}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27
      - name: sidecar
        image: busybox
---
# nothing but a comment
---
apiVersion: v1
kind: ConfigMap
data:
  key: value
`;

const at = (needle: string, from = 0) => TEXT.indexOf(needle, from);

describe("parseDocuments", () => {
  it("numbers only the non-empty documents and gives their offsets", () => {
    const docs = parseDocuments(TEXT);
    expect(docs.map((d) => d.index)).toEqual([0, 1]);
    expect(docs[0].from).toBe(at("apiVersion: apps/v1"));
    expect(docs[1].from).toBe(at("apiVersion: v1"));
    expect(docs[0].to).toBeLessThanOrEqual(at("---", docs[0].from));
    expect(docs[1].to).toBe(TEXT.length);
    expect(docs[1].object).toEqual({ apiVersion: "v1", kind: "ConfigMap", data: { key: "value" } });
    expect(docs.every((d) => d.errors.length === 0)).toBe(true);
  });

  it("reads with the core schema: yes and 0777 stay what YAML 1.2 says they are", () => {
    const [doc] = parseDocuments("a: yes\nb: 0777\nc: 0o17\n");
    expect(doc.object).toEqual({ a: "yes", b: 777, c: 15 });
  });

  it("reports syntax errors where they are", () => {
    const text = "a: 1\na: 2\n";
    const [doc] = parseDocuments(text);
    expect(doc.errors).toHaveLength(1);
    expect(doc.errors[0].from).toBe(text.indexOf("a: 2"));
    expect(doc.errors[0].message).toMatch(/unique/);
  });

  it("refuses alias bombs and self-referencing aliases", () => {
    const bomb = ["a: &a [x,x,x,x,x,x,x,x,x]", "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]", "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]", "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]"].join("\n");
    expect(parseDocuments(bomb)[0].errors).not.toHaveLength(0);
    const loop = parseDocuments("a: &x [*x]\n")[0];
    expect(loop.errors).not.toHaveLength(0);
    expect(loop.object).toBeNull();
  });

  it("reads empty text as no documents", () => {
    expect(parseDocuments("")).toEqual([]);
    expect(parseDocuments("---\n# just this\n---\n")).toEqual([]);
  });
});

describe("locate", () => {
  it("finds a nested field, key through value", () => {
    const r = locate(TEXT, 0, "spec.replicas")!;
    expect(TEXT.slice(r.from, r.to)).toBe("replicas: 3");
  });

  it("finds a field inside a list item", () => {
    const r = locate(TEXT, 0, "spec.template.spec.containers[1].image")!;
    expect(TEXT.slice(r.from, r.to)).toBe("image: busybox");
  });

  it("marks the first line of a list item and only the key of a block", () => {
    const item = locate(TEXT, 0, "spec.template.spec.containers[0]")!;
    expect(TEXT.slice(item.from, item.to)).toBe("name: web");
    const block = locate(TEXT, 0, "spec.template")!;
    expect(TEXT.slice(block.from, block.to)).toBe("template");
  });

  it("reads map keys in brackets, dots and all", () => {
    const r = locate(TEXT, 0, "metadata.labels[app.kubernetes.io/name]")!;
    expect(TEXT.slice(r.from, r.to)).toBe("app.kubernetes.io/name: web");
  });

  it("falls back to the nearest parent that exists", () => {
    const r = locate(TEXT, 0, "spec.template.spec.containers[0].ports[0].containerPort")!;
    expect(TEXT.slice(r.from, r.to)).toBe("name: web");
    const s = locate(TEXT, 0, "spec.selector")!;
    expect(TEXT.slice(s.from, s.to)).toBe("spec");
  });

  it("falls back to the document's start, and knows the second document", () => {
    const r = locate(TEXT, 1, "status.phase")!;
    expect(r.from).toBe(at("apiVersion: v1"));
    const d = locate(TEXT, 1, "data.key")!;
    expect(TEXT.slice(d.from, d.to)).toBe("key: value");
    expect(locate(TEXT, 5, "spec")).toBeNull();
  });

  it("splits paths the way Kubernetes writes them", () => {
    expect(pathSegments("spec.containers[0].resources.limits[cpu]")).toEqual(["spec", "containers", 0, "resources", "limits", "cpu"]);
  });
});

describe("toYaml", () => {
  it("writes block YAML that reads back the same, key order kept", () => {
    const objects = [
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: { z: "1", a: "yes" } }, spec: { replicas: 2, template: { spec: { containers: [{ name: "web", image: "nginx", args: ["--port", "8080"] }] } } } },
      { apiVersion: "v1", kind: "ConfigMap", data: { mode: "0777", empty: "", on: "on", long: "x ".repeat(80).trim() } },
    ];
    const text = toYaml(objects);
    expect(text).toContain("\n---\n");
    expect(text).toContain("containers:\n      - name: web");
    expect(text).not.toContain("{");
    const back = parseDocuments(text);
    expect(back.map((d) => d.object)).toEqual(objects);
    expect(Object.keys((back[0].object as { metadata: { labels: object } }).metadata.labels)).toEqual(["z", "a"]);
  });

  it("writes nothing for no objects", () => {
    expect(toYaml([])).toBe("");
  });
});
