// Times as the screens show them, always with their zone.
import type { Prefs } from "./prefs";

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
