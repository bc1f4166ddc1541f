// The analyst's preferences (time range, zone, theme), kept across restarts, and the windows
// a range resolves to.

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
