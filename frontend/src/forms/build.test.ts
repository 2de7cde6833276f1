import { describe, expect, it } from "vitest";
import { build, defaults, imageBaseName, splitCommand, toNumber, type Values } from "./build";
import { FORMS, formFor, type FormSpec } from "./kinds";
import { fieldFor, rowOf } from "./render";

const form = (kind: string): FormSpec => {
  const f = formFor(kind);
  if (!f) throw new Error(`no form for ${kind}`);
  return f;
};

/** Build a kind's manifest from its defaults with some values changed. */
const make = (kind: string, values: Values = {}) => build(form(kind), { ...defaults(form(kind)), name: "web", ...values });

// What each kind's defaults must produce, beyond apiVersion, kind and metadata.name.
const CASES: { kind: string; apiVersion: string; expect: (m: any) => void }[] = [
  {
    kind: "Deployment", apiVersion: "apps/v1",
    expect: (m) => {
      expect(m.spec.replicas).toBe(3);
      expect(m.spec.template.spec.containers).toEqual([{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80, protocol: "TCP" }] }]);
    },
  },
  {
    kind: "Pod", apiVersion: "v1",
    expect: (m) => {
      expect(m.spec.containers[0].image).toBe("nginx:1.27");
      expect(m.spec.restartPolicy).toBe("Always");
    },
  },
  {
    kind: "Service", apiVersion: "v1",
    expect: (m) => expect(m.spec).toEqual({ type: "ClusterIP", selector: { app: "web" }, ports: [{ port: 80, targetPort: 80, protocol: "TCP" }] }),
  },
  {
    kind: "DaemonSet", apiVersion: "apps/v1",
    expect: (m) => {
      expect(m.spec.replicas).toBeUndefined();
      expect(m.spec.selector).toEqual({ matchLabels: { app: "web" } });
    },
  },
  {
    kind: "StatefulSet", apiVersion: "apps/v1",
    expect: (m) => {
      expect(m.spec.replicas).toBe(2);
      expect(m.spec.serviceName).toBe("web");
    },
  },
  {
    kind: "Job", apiVersion: "batch/v1",
    expect: (m) => {
      expect(m.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6 });
      expect(m.spec.selector).toBeUndefined(); // the Job controller makes its own
      expect(m.spec.template.spec.restartPolicy).toBe("Never");
      expect(m.spec.template.spec.containers[0]).toEqual({ name: "web", image: "busybox:1.36", command: ["sh", "-c", "echo hello from kubeviz; sleep 5"] });
    },
  },
  {
    kind: "CronJob", apiVersion: "batch/v1",
    expect: (m) => {
      expect(m.spec.schedule).toBe("*/1 * * * *");
      expect(m.spec.concurrencyPolicy).toBe("Allow");
      expect(m.spec.suspend).toBeUndefined();
      expect(m.spec.jobTemplate.spec.template.spec.restartPolicy).toBe("Never");
      expect(m.spec.jobTemplate.spec.template.spec.containers[0].image).toBe("busybox:1.36");
    },
  },
  { kind: "ConfigMap", apiVersion: "v1", expect: (m) => expect(m.data).toBeUndefined() },
  { kind: "Secret", apiVersion: "v1", expect: (m) => expect(m.type).toBe("Opaque") },
  { kind: "Namespace", apiVersion: "v1", expect: (m) => expect(m.spec).toBeUndefined() },
]; // prettier-ignore

describe("forms", () => {
  it("lists the kinds in order, each field key once", () => {
    expect(FORMS.map((f) => f.kind)).toEqual(CASES.map((c) => c.kind));
    for (const f of FORMS) {
      const keys = f.fields.map((x) => x.key);
      expect(new Set(keys).size, f.kind).toBe(keys.length);
      for (const x of f.fields) expect(x.paths.length, `${f.kind}.${x.key}`).toBeGreaterThan(0);
    }
    expect(formFor("Gadget")).toBeUndefined();
  });

  it("every field's `when` names a field of the same form", () => {
    for (const f of FORMS) for (const x of f.fields) if (x.when) expect(f.fields.map((y) => y.key)).toContain(x.when.key);
  });
});

describe("build with the defaults", () => {
  for (const c of CASES) {
    it(c.kind, () => {
      const m = make(c.kind);
      expect(Object.keys(m).slice(0, 3)).toEqual(["apiVersion", "kind", "metadata"]);
      expect(m.apiVersion).toBe(c.apiVersion);
      expect(m.kind).toBe(c.kind);
      expect((m.metadata as any).name).toBe("web");
      expect((m.metadata as any).namespace).toBe(c.kind === "Namespace" ? undefined : "default");
      c.expect(m);
      // Nothing empty is left in: no [], no {}, no "" except where a required value was typed blank.
      expect(JSON.stringify(m)).not.toMatch(/\[\]|\{\}|""/);
    });
  }

  it("defaults() gives every field a value", () => {
    for (const f of FORMS) expect(Object.keys(defaults(f)).sort()).toEqual(f.fields.map((x) => x.key).sort());
  });
});

describe("build", () => {
  it("makes a Deployment's selector equal its template labels, app=<name> by default", () => {
    const m = make("Deployment") as any;
    expect(m.metadata.labels).toEqual({ app: "web" });
    expect(m.spec.selector.matchLabels).toEqual(m.spec.template.metadata.labels);
    const custom = make("Deployment", { labels: [{ key: "tier", value: "front" }, { key: " app ", value: " shop " }] }) as any;
    expect(custom.spec.selector.matchLabels).toEqual({ tier: "front", app: "shop" });
    expect(custom.spec.template.metadata.labels).toEqual({ tier: "front", app: "shop" });
    expect(custom.metadata.labels).toEqual({ tier: "front", app: "shop" });
  });

  it("takes key/value fields as a plain object too", () => {
    const m = make("Deployment", { labels: { tier: "back" } }) as any;
    expect(m.spec.selector.matchLabels).toEqual({ tier: "back" });
  });

  it("leaves optional labels out for ConfigMap, Secret and Namespace", () => {
    for (const kind of ["ConfigMap", "Secret", "Namespace"]) expect((make(kind).metadata as any).labels).toBeUndefined();
  });

  it("writes a headless Service as ClusterIP with clusterIP None", () => {
    const m = make("Service", { type: "Headless" }) as any;
    expect(m.spec.type).toBe("ClusterIP");
    expect(m.spec.clusterIP).toBe("None");
    expect(make("Service").spec).not.toHaveProperty("clusterIP");
  });

  it("writes nodePort only for a NodePort Service, and only when given", () => {
    const ports = [{ port: "80", targetPort: "http", protocol: "TCP", nodePort: "30080" }, { port: 443, targetPort: "8443", nodePort: "" }];
    const np = make("Service", { type: "NodePort", ports }) as any;
    expect(np.spec.type).toBe("NodePort");
    expect(np.spec.externalTrafficPolicy).toBe("Cluster");
    expect(np.spec.ports).toEqual([
      { port: 80, targetPort: "http", protocol: "TCP", nodePort: 30080 },
      { port: 443, targetPort: 8443, protocol: "TCP" },
    ]);
    const cip = make("Service", { type: "ClusterIP", ports }) as any;
    expect(cip.spec.ports.every((p: object) => !("nodePort" in p))).toBe(true);
    expect(cip.spec).not.toHaveProperty("externalTrafficPolicy");
  });

  it("omits empty env, resources, nodeSelector, tolerations and affinity", () => {
    const blankRows = { env: [{ name: " ", value: "" }], nodeSelector: [{ key: "", value: "" }], tolerations: [{ operator: "Equal" }] };
    const c = (make("Deployment", { ...blankRows, cpuRequest: "  " }) as any).spec.template.spec;
    expect(c.containers[0]).not.toHaveProperty("env");
    expect(c.containers[0]).not.toHaveProperty("resources");
    expect(c).not.toHaveProperty("nodeSelector");
    expect(c).not.toHaveProperty("tolerations");
    expect(c).not.toHaveProperty("affinity");
  });

  it("writes env, resources and the scheduling constraints", () => {
    const m = make("Deployment", {
      env: [{ name: "MODE", value: " fast " }, { name: "EMPTY", value: "" }],
      cpuRequest: "100m", memoryLimit: "128Mi",
      nodeSelector: [{ key: "disktype", value: "ssd" }],
      tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }, { operator: "Exists" }],
      affinityKey: "zone", affinityOperator: "In", affinityValues: ["a", " ", "b"],
    }) as any; // prettier-ignore
    const pod = m.spec.template.spec;
    expect(pod.containers[0].env).toEqual([{ name: "MODE", value: "fast" }, { name: "EMPTY" }]);
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: "100m" }, limits: { memory: "128Mi" } });
    expect(pod.nodeSelector).toEqual({ disktype: "ssd" });
    expect(pod.tolerations).toEqual([{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }, { operator: "Exists" }]);
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] },
    ]);
    const exists = make("Deployment", { affinityKey: "gpu", affinityOperator: "Exists", affinityValues: ["x"] }) as any;
    expect(exists.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
      { key: "gpu", operator: "Exists" },
    ]);
  });

  it("turns plain numbers into numbers and keeps anything else as typed", () => {
    const m = make("Deployment", { replicas: " 5 ", ports: [{ containerPort: "8080", protocol: "UDP" }] }) as any;
    expect(m.spec.replicas).toBe(5);
    expect(m.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 8080, protocol: "UDP" }]);
    const j = make("Job", { completions: "3", parallelism: 2, backoffLimit: "" }) as any;
    expect(j.spec.completions).toBe(3);
    expect(j.spec.parallelism).toBe(2);
    expect(j.spec).not.toHaveProperty("backoffLimit");
    expect((make("Deployment", { replicas: "lots" }) as any).spec.replicas).toBe("lots");
    expect((make("Deployment", { replicas: 0 }) as any).spec.replicas).toBe(0);
    expect([toNumber("12"), toNumber(""), toNumber("1e3"), toNumber(Number.NaN)]).toEqual([12, undefined, "1e3", undefined]);
  });

  it("keeps an invalid name exactly as typed, apart from surrounding spaces", () => {
    const m = make("Deployment", { name: "  My_App!<b>  " }) as any;
    expect(m.metadata.name).toBe("My_App!<b>");
    expect(m.spec.template.spec.containers[0].name).toBe("My_App!<b>");
    expect(m.spec.selector.matchLabels).toEqual({ app: "My_App!<b>" });
  });

  it("names the container after the image until there is a name", () => {
    const m = make("Deployment", { name: "", image: "ghcr.io/acme/My_Api:v2" }) as any;
    expect(m.metadata.name).toBe("");
    expect(m.spec.template.spec.containers[0].name).toBe("my-api");
    expect(imageBaseName("registry.k8s.io/pause@sha256:abc")).toBe("pause");
    expect(imageBaseName("localhost:5000/web")).toBe("web");
    expect(imageBaseName("")).toBe("");
  });

  it("uses the typed StatefulSet service name, else the name", () => {
    expect((make("StatefulSet", { serviceName: "db-headless" }) as any).spec.serviceName).toBe("db-headless");
  });

  it("writes a suspended CronJob and the Job fields under jobTemplate", () => {
    const m = make("CronJob", { suspend: true, completions: 4, restartPolicy: "OnFailure" }) as any;
    expect(m.spec.suspend).toBe(true);
    expect(m.spec.jobTemplate.spec.completions).toBe(4);
    expect(m.spec.jobTemplate.spec.template.spec.restartPolicy).toBe("OnFailure");
  });

  it("keeps ConfigMap and Secret values' whitespace, trims their keys", () => {
    const file = "a: 1\n  b: 2\n";
    expect((make("ConfigMap", { data: [{ key: " app.yaml ", value: file }] }) as any).data).toEqual({ "app.yaml": file });
    const s = make("Secret", { type: "kubernetes.io/basic-auth", stringData: [{ key: "username", value: "admin" }] }) as any;
    expect(s).toMatchObject({ type: "kubernetes.io/basic-auth", stringData: { username: "admin" } });
  });

  it("writes a Namespace with only metadata", () => {
    expect(make("Namespace", { labels: [{ key: "team", value: "a" }] })).toEqual({ apiVersion: "v1", kind: "Namespace", metadata: { name: "web", labels: { team: "a" } } });
  });
});

describe("splitCommand", () => {
  it("splits words, groups quoted words, and takes one argument per line", () => {
    expect(splitCommand("  sleep   3600 ")).toEqual(["sleep", "3600"]);
    expect(splitCommand(`sh -c "echo 'hi there'; sleep 1" ''`)).toEqual(["sh", "-c", "echo 'hi there'; sleep 1", ""]);
    expect(splitCommand("sh\n-c\necho \"a b\"; exit 1\n")).toEqual(["sh", "-c", 'echo "a b"; exit 1']);
    expect(splitCommand("")).toEqual([]);
  });
});

describe("fieldFor", () => {
  const deployment = form("Deployment");
  const keyOf = (spec: FormSpec, path: string) => fieldFor(spec, path)?.key;

  it("maps manifest paths to the field that wrote them", () => {
    expect(keyOf(deployment, "spec.template.spec.containers[0].image")).toBe("image");
    expect(keyOf(deployment, "metadata.name")).toBe("name");
    expect(keyOf(deployment, "spec.template.spec.containers[0].name")).toBe("name");
    expect(keyOf(deployment, "spec.template.spec.containers")).toBe("image");
    expect(keyOf(deployment, "spec.template.spec.containers[0].ports[1].containerPort")).toBe("ports");
    expect(keyOf(deployment, "spec.template.metadata.labels")).toBe("labels");
    expect(keyOf(deployment, "spec.selector")).toBe("labels");
    expect(keyOf(deployment, "spec.replicas")).toBe("replicas");
    expect(keyOf(deployment, "spec.template.spec.tolerations[0].effect")).toBe("tolerations");
    const expr = "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]";
    expect(keyOf(deployment, `${expr}.values`)).toBe("affinityValues");
    expect(keyOf(deployment, `${expr}.operator`)).toBe("affinityOperator");
    expect(keyOf(deployment, expr)).toBe("affinityKey");
    expect(keyOf(form("CronJob"), "spec.jobTemplate.spec.template.spec.containers[0].image")).toBe("image");
    expect(keyOf(form("Pod"), "spec.containers[0].image")).toBe("image");
    expect(keyOf(form("Service"), "spec.ports[0].nodePort")).toBe("ports");
    expect(keyOf(form("Service"), "spec.clusterIP")).toBe("type");
  });

  it("reads map keys in brackets and in dots alike", () => {
    expect(keyOf(deployment, "spec.template.spec.containers[0].resources.requests[cpu]")).toBe("cpuRequest");
    expect(keyOf(deployment, "spec.template.spec.containers[0].resources.limits.memory")).toBe("memoryLimit");
  });

  it("matches whole path segments only, and claims nothing it does not write", () => {
    expect(keyOf(deployment, "metadata.namex")).toBeUndefined();
    expect(keyOf(deployment, "metadata.annotations")).toBeUndefined();
    expect(keyOf(deployment, "spec")).toBeUndefined();
    expect(keyOf(deployment, "")).toBeUndefined();
  });

  it("finds the row a path's remainder names", () => {
    expect(rowOf("[2].nodePort")).toEqual({ row: 2, col: "nodePort" });
    expect(rowOf("[0]")).toEqual({ row: 0, col: undefined });
    expect(rowOf(".app")).toBeUndefined();
  });
});
