// Pure UI logic (tested with vitest): time ranges, time zones, deep links, filtering, keys.
import type { CaseState, Category, FleetRow } from "./bindings";

export const QUICK_RANGES: { id: string; label: string; ms: number }[] = [
  { id: "1h", label: "1 h", ms: 3_600_000 },
  { id: "6h", label: "6 h", ms: 6 * 3_600_000 },
  { id: "24h", label: "24 h", ms: 86_400_000 },
  { id: "3d", label: "3 d", ms: 3 * 86_400_000 },
  { id: "7d", label: "7 d", ms: 7 * 86_400_000 },
  { id: "30d", label: "30 d", ms: 30 * 86_400_000 },
];

/** The one time range of every screen: a quick range ending at the newest data, or custom. */
export type Range = { kind: "quick"; id: string } | { kind: "custom"; from: number; to: number };

export interface Prefs {
  range: Range;
  tz: "UTC" | "local";
  theme: "dark" | "light";
}

export const DEFAULT_PREFS: Prefs = { range: { kind: "quick", id: "7d" }, tz: "UTC", theme: "dark" };

const PREFS_KEY = "defender-desk.prefs.v1";

/** Reads preferences, ignoring anything malformed (they persist across restarts). */
export function loadPrefs(storage: Pick<Storage, "getItem"> | undefined): Prefs {
  try {
    const raw = storage?.getItem(PREFS_KEY);
    if (!raw) return DEFAULT_PREFS;
    const p = JSON.parse(raw) as Partial<Prefs>;
    const range = validRange(p.range) ? p.range : DEFAULT_PREFS.range;
    return {
      range,
      tz: p.tz === "local" ? "local" : "UTC",
      theme: p.theme === "light" ? "light" : "dark",
    };
  } catch {
    return DEFAULT_PREFS;
  }
}

export function savePrefs(storage: Pick<Storage, "setItem"> | undefined, p: Prefs): void {
  storage?.setItem(PREFS_KEY, JSON.stringify(p));
}

function validRange(r: unknown): r is Range {
  if (typeof r !== "object" || r === null) return false;
  const x = r as Record<string, unknown>;
  if (x.kind === "quick") return QUICK_RANGES.some((q) => q.id === x.id);
  return x.kind === "custom" && Number.isFinite(x.from) && Number.isFinite(x.to) && (x.from as number) < (x.to as number);
}

export function rangeMs(r: Range): number {
  if (r.kind === "custom") return r.to - r.from;
  return QUICK_RANGES.find((q) => q.id === r.id)?.ms ?? 7 * 86_400_000;
}

/** The window to ask the engine for: a quick range ends at `newest` (the newest data). */
export function resolveRange(r: Range, newest: number | null): { from: number; to: number } {
  if (r.kind === "custom") return { from: r.from, to: r.to };
  const to = newest ?? Date.now();
  return { from: to - rangeMs(r), to };
}

/** Device pixels per CSS pixel for chart images: the display's ratio, within 1 to 3 (a chart
 *  bitmap costs the square of it to draw, move and decode), in quarter steps so a fractional
 *  desktop scale does not ask for a new size at every window move. */
export function chartScale(devicePixelRatio: number | undefined): number {
  const r = Number.isFinite(devicePixelRatio) && devicePixelRatio! > 0 ? devicePixelRatio! : 1;
  return Math.min(3, Math.max(1, Math.ceil(r * 4) / 4));
}

/** The IANA zone charts use: UTC, or the machine's own. */
export function chartZone(tz: Prefs["tz"]): string {
  if (tz === "UTC") return "UTC";
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** `2026-11-21 14:05 UTC` or in the local zone, always stating the zone. */
export function formatTime(ms: number | null | undefined, tz: Prefs["tz"], seconds = false): string {
  if (ms === null || ms === undefined) return "—";
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (tz === "UTC") {
    const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    return `${base}${seconds ? `:${pad(d.getUTCSeconds())}` : ""} UTC`;
  }
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${base}${seconds ? `:${pad(d.getSeconds())}` : ""} ${chartZone("local")}`;
}

/** "12 min ago", "3 h ago", "2 d ago": how fresh a report is. */
export function ago(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

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

export interface FleetFilter {
  query: string;
  category: Category | "";
  onlyViolations: boolean;
  onlyQuarantined: boolean;
  /** Only things whose investigation is in this state. */
  caseState: CaseState | "";
}

export const NO_FILTER: FleetFilter = { query: "", category: "", onlyViolations: false, onlyQuarantined: false, caseState: "" };

/** Filters the triage rows; the query matches thing names and reasons, case-insensitively. */
export function filterFleet(rows: FleetRow[], f: FleetFilter): FleetRow[] {
  const q = f.query.trim().toLowerCase();
  return rows.filter(
    (r) =>
      (!q || r.thing.toLowerCase().includes(q) || r.reasons.some((x) => x.text.toLowerCase().includes(q))) &&
      (!f.category || r.categories.includes(f.category)) &&
      (!f.onlyViolations || r.open_violations > 0) &&
      (!f.onlyQuarantined || r.quarantined) &&
      (!f.caseState || r.case_state === f.caseState),
  );
}

export const CATEGORY_LABELS: Record<Category, string> = {
  "ddos-participation": "DDoS",
  "backdoor-recon": "backdoor / recon",
  "exfiltration-c2": "exfiltration / C2",
  "brute-force": "brute force",
  "malware-cryptominer": "malware / miner",
  "connection-abuse-jamming": "connection abuse / jamming",
};

export type KeyAction = "search" | "down" | "up" | "open" | "back" | "help" | null;

/** What a key press means; keys typed into a text field are the field's, except Esc. */
export function keyAction(key: string, inField: boolean, modifiers = false): KeyAction {
  if (modifiers) return null;
  if (key === "Escape") return "back";
  if (inField) return null;
  switch (key) {
    case "/":
      return "search";
    case "j":
    case "ArrowDown":
      return "down";
    case "k":
    case "ArrowUp":
      return "up";
    case "Enter":
      return "open";
    case "?":
      return "help";
    default:
      return null;
  }
}

/** The time under the pointer on a chart, from the engine's plot geometry. */
export function timeAt(
  x: number,
  g: { left: number; width: number; x_from: number; x_to: number },
): number | null {
  if (g.width <= 0 || x < g.left || x > g.left + g.width) return null;
  return g.x_from + ((x - g.left) / g.width) * (g.x_to - g.x_from);
}

/** The hover value at `t`: the `[min, max]` of its column (columns split [from, to] evenly),
 *  or of the nearest reported column within 3. */
export function hoverAt(hover: ([number, number] | null)[], from: number, to: number, t: number): [number, number] | null {
  if (hover.length === 0 || to <= from || t < from || t > to) return null;
  const col = Math.min(hover.length - 1, Math.floor(((t - from) / (to - from)) * hover.length));
  for (let d = 0; d <= 3; d++) {
    const a = hover[col - d];
    if (a) return a;
    const b = hover[col + d];
    if (b) return b;
  }
  return null;
}

/** A brush from x0 to x1 (pixels) as a window, or null when too small to mean a zoom. */
export function brushWindow(
  x0: number,
  x1: number,
  g: { left: number; width: number; x_from: number; x_to: number },
): { from: number; to: number } | null {
  const clamp = (x: number) => Math.min(Math.max(x, g.left), g.left + g.width);
  const a = clamp(Math.min(x0, x1));
  const b = clamp(Math.max(x0, x1));
  if (b - a < 4) return null;
  const from = timeAt(a, g);
  const to = timeAt(b, g);
  if (from === null || to === null || to - from < 60_000) return null;
  return { from: Math.round(from), to: Math.round(to) };
}

export function humanNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)} G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** The violation a mitigation acts on unless the analyst picks another: the newest one still in
 *  alarm, else the newest. */
export function defaultViolation(vs: { violation_id: string; started: number | null; ended: number | null }[]): string | null {
  const newest = (xs: typeof vs) => xs.reduce<(typeof vs)[number] | null>((a, v) => (!a || (v.started ?? -Infinity) > (a.started ?? -Infinity) ? v : a), null);
  return (newest(vs.filter((v) => v.ended === null)) ?? newest(vs))?.violation_id ?? null;
}
