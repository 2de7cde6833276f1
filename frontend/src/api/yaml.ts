// A small YAML writer for showing objects (JSON in, block YAML out).  Reading YAML is the
// server's job; this only prints, so strings that could be misread are quoted.

const PLAIN = /^[A-Za-z0-9_./][A-Za-z0-9_ ./:-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|~|[-+]?[0-9.]+(e[-+]?[0-9]+)?)$/i;

function scalar(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  const s = String(v);
  if (s !== "" && PLAIN.test(s) && !RESERVED.test(s) && !s.endsWith(" ") && !s.includes(": ")) return s;
  return JSON.stringify(s);
}

function isEmpty(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && Object.keys(v).length === 0);
}

function lines(v: unknown, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (typeof item === "object" && item !== null && !isEmpty(item)) {
        const inner: string[] = [];
        lines(item, indent + "  ", inner);
        out.push(indent + "- " + inner[0].slice(indent.length + 2), ...inner.slice(1));
      } else {
        out.push(`${indent}- ${isEmpty(item) ? (Array.isArray(item) ? "[]" : "{}") : scalar(item)}`);
      }
    }
    return;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const key = scalar(k);
    if (typeof val === "object" && val !== null && !isEmpty(val)) {
      out.push(`${indent}${key}:`);
      lines(val, Array.isArray(val) ? indent : indent + "  ", out);
    } else {
      out.push(`${indent}${key}: ${isEmpty(val) ? (Array.isArray(val) ? "[]" : "{}") : scalar(val)}`);
    }
  }
}

export function toYaml(value: unknown): string {
  const out: string[] = [];
  lines(value, "", out);
  return out.join("\n") + "\n";
}
