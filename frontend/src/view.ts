// The view a URL can share: selection, namespace filter, search, followed object and zoom,
// kept in the location hash.

export interface View {
  selected: string; // "pod:<ns>/<name>", "component:<machine>/<name>", "machine:<name>" or ""
  namespace: string;
  search: string;
  follow: string; // "<kind>:<ns>/<name>" or ""
  zoom: number;
  x: number;
  y: number;
}

export const DEFAULT_VIEW: View = { selected: "", namespace: "", search: "", follow: "", zoom: 1, x: 0, y: 0 };

export function readHash(hash: string): View {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const num = (key: string, fallback: number) => {
    const v = Number(p.get(key));
    return p.has(key) && Number.isFinite(v) ? v : fallback;
  };
  return {
    selected: p.get("sel") ?? "",
    namespace: p.get("ns") ?? "",
    search: p.get("q") ?? "",
    follow: p.get("follow") ?? "",
    zoom: Math.min(4, Math.max(0.1, num("z", 1))),
    x: num("x", 0),
    y: num("y", 0),
  };
}

export function writeHash(v: View): string {
  const p = new URLSearchParams();
  if (v.selected) p.set("sel", v.selected);
  if (v.namespace) p.set("ns", v.namespace);
  if (v.search) p.set("q", v.search);
  if (v.follow) p.set("follow", v.follow);
  if (v.zoom !== 1) p.set("z", v.zoom.toFixed(2));
  if (v.x) p.set("x", String(Math.round(v.x)));
  if (v.y) p.set("y", String(Math.round(v.y)));
  return "#" + p.toString();
}
