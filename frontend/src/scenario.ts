// A scenario's page (/s/<slug>): its title and notes, then a fresh cluster of its own for
// this viewer.  A reload returns to the cluster already launched in this tab.

import "./style.css";
import { launchScenario } from "./api/web";
import { h } from "./panels/dom";
import { renderMarkdown } from "./panels/story";

const $ = (id: string) => document.getElementById(id) as HTMLElement;

interface Step { at: number; note: string }

async function main(): Promise<void> {
  const slug = document.body.dataset.slug ?? "";
  const resp = await fetch(`/api/scenarios/${encodeURIComponent(slug)}`);
  const body = await resp.json();
  if (!resp.ok) {
    $("title").textContent = "This scenario does not exist";
    $("status").textContent = body.message ?? "";
    return;
  }
  document.title = `kubeviz · ${body.title}`;
  $("title").textContent = body.title;
  $("description").innerHTML = renderMarkdown(body.description ?? ""); // markdown-it with html: false
  const steps = (body.document.spec.steps as Step[]).filter((s) => s.note);
  $("steps").replaceChildren(...steps.map((s) => h("li", {}, h("span", { class: "at" }, `${s.at}s`), ` ${s.note}`)));
  const topo = body.document.spec.topology;
  $("topology").textContent = `${topo.masters} master(s), ${topo.workers} worker(s), ${topo.cni}, kube-proxy in ${topo.proxyMode} mode, ${topo.speed}× speed${topo.mastersSchedulable ? ", masters run workloads" : ""}`;
  const exportLink = $("export") as HTMLAnchorElement;
  exportLink.href = `/api/scenarios/${encodeURIComponent(slug)}/export`;
  exportLink.hidden = false;

  const remembered = sessionStorage.getItem(`kubeviz:launched:${slug}`);
  if (remembered) {
    const still = await fetch(`/api/clusters/${encodeURIComponent(remembered)}`);
    if (still.ok) return go(remembered);
  }
  $("status").textContent = "Starting a cluster of your own…";
  const launched = await launchScenario(slug);
  if (!launched.ok) {
    $("status").textContent = launched.body?.message ?? "the cluster could not be started";
    $("status").classList.add("error");
    const retry = h("button", { type: "button", class: "primary" }, "Try again");
    retry.addEventListener("click", () => location.reload());
    $("status").after(retry);
    return;
  }
  sessionStorage.setItem(`kubeviz:launched:${slug}`, launched.body.cluster);
  go(launched.body.cluster);
}

function go(cluster: string): void {
  $("status").textContent = "Your cluster is ready. Opening it…";
  const open = h("a", { href: `/clusters/${encodeURIComponent(cluster)}/`, id: "open-cluster" }, "Open the cluster");
  $("status").after(open);
  // A moment to read the title; the steps show on the cluster page too.
  window.setTimeout(() => location.assign(`/clusters/${encodeURIComponent(cluster)}/`), 2500);
}

main().catch((err: Error) => {
  $("status").textContent = `the page could not start: ${err.message}`;
});
