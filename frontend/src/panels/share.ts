// Share and connect: a scenario link (a fresh copy of this cluster for whoever opens it), live
// links to this very cluster (view-only or editable), and kubectl's kubeconfig and commands.

import { createLink, shareScenario } from "../api/web";
import { h } from "./dom";

function copyRow(label: string, value: string, id: string): HTMLElement {
  const input = h("input", { type: "text", readonly: "", value, id, "aria-label": label }) as HTMLInputElement;
  const copy = h("button", { type: "button" }, "Copy");
  copy.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Select and copy";
    }
  });
  return h("div", { class: "copy-row" }, h("label", { for: id }, label), input, copy);
}

export function setupShare(dialog: HTMLDialogElement, cluster: string, mode: string): { open(): void } {
  const out = h("div", { class: "share-out", role: "status", "aria-live": "polite" });
  const close = h("button", { type: "button", class: "close", "aria-label": "Close" }, "×");
  close.addEventListener("click", () => dialog.close());
  const scenario = h("button", { type: "button", id: "share-scenario" }, "Scenario link");
  const view = h("button", { type: "button", id: "share-view" }, "Live link, view only");
  const edit = h("button", { type: "button", id: "share-edit" }, "Live link, editable");
  const canShareLive = mode === "owner";
  dialog.replaceChildren(
    h("header", {}, h("h2", {}, "Share this cluster"), close),
    h("p", {}, "A scenario link holds this cluster's topology and the objects people made. Whoever opens it gets a fresh cluster of their own, built the same way."),
    h("p", {}, "A live link opens this very cluster, so everyone sees each other's changes as they happen. A view-only link can watch but not change anything."),
    h("div", { class: "share-buttons" }, scenario, canShareLive ? view : "", canShareLive ? edit : ""),
    out,
  );
  const absolute = (path: string) => new URL(path, location.origin).href;
  const run = async (button: HTMLElement, make: () => Promise<{ ok: boolean; body: any }>, label: string, id: string) => {
    button.setAttribute("disabled", "");
    try {
      const { ok, body } = await make();
      if (!ok) {
        out.append(h("p", { class: "error", role: "alert" }, body?.message ?? "could not make the link"));
        return;
      }
      const row = copyRow(label, absolute(body.url), id);
      out.append(row);
      try {
        await navigator.clipboard.writeText(absolute(body.url));
      } catch {
        /* the browser may refuse without a click on the Copy button itself */
      }
    } finally {
      button.removeAttribute("disabled");
    }
  };
  scenario.addEventListener("click", () => void run(scenario, () => shareScenario(cluster), "Scenario link", "scenario-url"));
  view.addEventListener("click", () => void run(view, () => createLink(cluster, "view"), "View-only live link", "view-url"));
  edit.addEventListener("click", () => void run(edit, () => createLink(cluster, "edit"), "Editable live link", "edit-url"));
  return { open: () => dialog.showModal() };
}

export function setupConnect(dialog: HTMLDialogElement, cluster: string): { open(): void } {
  const close = h("button", { type: "button", class: "close", "aria-label": "Close" }, "×");
  close.addEventListener("click", () => dialog.close());
  const kubeconfig = `/api/clusters/${encodeURIComponent(cluster)}/kubeconfig`;
  const commands = [
    `curl -s ${location.origin}${kubeconfig} > kubeconfig-kubeviz.yaml`,
    "export KUBECONFIG=$PWD/kubeconfig-kubeviz.yaml",
    "kubectl get nodes",
    "kubectl create deployment web --image=nginx:1.27 --replicas=3",
    "kubectl get pods -o wide --watch",
  ].join("\n");
  const pre = h("pre", { id: "connect-commands" }, commands);
  const copy = h("button", { type: "button" }, "Copy commands");
  copy.addEventListener("click", () => void navigator.clipboard?.writeText(commands).then(() => (copy.textContent = "Copied")));
  dialog.replaceChildren(
    h("header", {}, h("h2", {}, "Connect with kubectl"), close),
    h("p", {}, "kubectl, helm and the Kubernetes client libraries talk to this cluster's kube-apiserver like to any other. Every request they make is drawn here."),
    h("p", {}, h("a", { href: kubeconfig, download: "kubeconfig-kubeviz.yaml", id: "kubeconfig-download" }, "Download the kubeconfig")),
    pre,
    copy,
  );
  return { open: () => dialog.showModal() };
}
