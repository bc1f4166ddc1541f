// The screens' routes and their in-app deep links (`#/thing/<name>?from=&to=`).

export type Route =
  | { screen: "triage" }
  | { screen: "thing"; thing: string; from?: number; to?: number }
  | { screen: "audit" }
  | { screen: "actions" }
  | { screen: "sources" }
  | { screen: "changes" };

/** Deep links: `#/thing/<name>?from=<ms>&to=<ms>`, `#/audit`, `#/actions`, `#/sources`, `#/changes`. */
export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, "");
  const [path, query = ""] = h.split("?", 2);
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "thing" && parts[1]) {
    let thing: string;
    try {
      thing = decodeURIComponent(parts.slice(1).join("/"));
    } catch {
      return { screen: "triage" };
    }
    const q = new URLSearchParams(query);
    const num = (k: string) => {
      const v = Number(q.get(k));
      return q.has(k) && Number.isFinite(v) ? v : undefined;
    };
    const from = num("from");
    const to = num("to");
    return from !== undefined && to !== undefined && from < to ? { screen: "thing", thing, from, to } : { screen: "thing", thing };
  }
  if (parts[0] === "audit" || parts[0] === "actions" || parts[0] === "sources" || parts[0] === "changes") return { screen: parts[0] };
  return { screen: "triage" };
}

export function toHash(r: Route): string {
  if (r.screen === "thing") {
    const base = `#/thing/${encodeURIComponent(r.thing)}`;
    return r.from !== undefined && r.to !== undefined ? `${base}?from=${r.from}&to=${r.to}` : base;
  }
  return r.screen === "triage" ? "#/" : `#/${r.screen}`;
}
