import { describe, expect, it } from "vitest";
import type { FleetRow } from "../bindings";
import {
  ago,
  brushWindow,
  chartScale,
  defaultViolation,
  DEFAULT_PREFS,
  filterFleet,
  formatBytes,
  formatTime,
  formatUsd,
  keyAction,
  loadPrefs,
  hoverAt,
  NO_FILTER,
  parseHash,
  resolveRange,
  savePrefs,
  timeAt,
  toHash,
} from ".";

const row = (thing: string, extra: Partial<FleetRow> = {}): FleetRow => ({
  thing,
  account: null,
  region: null,
  key: thing,
  score: 1,
  reasons: [],
  categories: [],
  open_violations: 0,
  last_report: 0,
  quarantined: false,
  case_state: "new",
  case_owner: null,
  down_ranked: null,
  ...extra,
});

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe("preferences", () => {
  it("persist the range, zone and theme", () => {
    const s = memoryStorage();
    savePrefs(s, { range: { kind: "custom", from: 1, to: 2 }, tz: "local", theme: "light" });
    expect(loadPrefs(s)).toEqual({ range: { kind: "custom", from: 1, to: 2 }, tz: "local", theme: "light" });
  });
  it("fall back to defaults on malformed or hostile storage", () => {
    const s = memoryStorage();
    s.setItem("defender-desk.prefs.v1", "{not json");
    expect(loadPrefs(s)).toEqual(DEFAULT_PREFS);
    s.setItem("defender-desk.prefs.v1", JSON.stringify({ range: { kind: "custom", from: 5, to: 1 }, tz: "<b>", theme: "x" }));
    expect(loadPrefs(s)).toEqual(DEFAULT_PREFS);
    expect(loadPrefs(undefined)).toEqual(DEFAULT_PREFS);
  });
});

describe("time", () => {
  it("quick ranges end at the newest data", () => {
    expect(resolveRange({ kind: "quick", id: "24h" }, 100_000_000)).toEqual({ from: 100_000_000 - 86_400_000, to: 100_000_000 });
    expect(resolveRange({ kind: "custom", from: 3, to: 9 }, 100)).toEqual({ from: 3, to: 9 });
  });
  it("states the zone", () => {
    expect(formatTime(Date.UTC(2026, 10, 21, 14, 5), "UTC")).toBe("2026-11-21 14:05 UTC");
    expect(formatTime(null, "UTC")).toBe("—");
  });
  it("says how fresh", () => {
    expect(ago(1000, 31_000)).toBe("30 s ago");
    expect(ago(0, 3_600_000 * 3)).toBe("3 h ago");
    expect(ago(null, 0)).toBe("never");
  });
});

describe("sizes and costs", () => {
  it("prints bytes in decimal units and dollars to a hundredth of a cent", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1_250_000_000)).toBe("1.25 GB");
    expect(formatBytes(10_000_000)).toBe("10.0 MB");
    expect(formatUsd(0.00012)).toBe("$0.0001");
    expect(formatUsd(0.05)).toBe("$0.0500");
    expect(formatUsd(12.345)).toBe("$12.35");
  });
});

describe("deep links", () => {
  it("round-trip a thing and window, hostile names included", () => {
    for (const thing of ["cam-lobby-017", "<img src=x onerror=alert(1)>", "a/b?c=d#e", "名前"]) {
      const r = { screen: "thing" as const, thing, from: 10, to: 20 };
      expect(parseHash(toHash(r))).toEqual(r);
    }
  });
  it("ignore broken windows and unknown screens", () => {
    expect(parseHash("#/thing/x?from=9&to=1")).toEqual({ screen: "thing", thing: "x" });
    expect(parseHash("#/thing/%E0%A4%A")).toEqual({ screen: "triage" });
    expect(parseHash("#/nope")).toEqual({ screen: "triage" });
    expect(parseHash("#/audit")).toEqual({ screen: "audit" });
  });
});

describe("fleet filters", () => {
  const rows = [
    row("cam-lobby-017", {
      categories: ["ddos-participation"],
      open_violations: 2,
      reasons: [{ text: "bytes out 140x", metric: "m", categories: [], since: 0, source: "baseline" }],
    }),
    row("gw-plant-03", { categories: ["backdoor-recon"], quarantined: true }),
    row("sensor-1", { case_state: "investigating", case_owner: "ana" }),
  ];
  it("search names and reasons", () => {
    expect(filterFleet(rows, { ...NO_FILTER, query: "GW-" }).map((r) => r.thing)).toEqual(["gw-plant-03"]);
    expect(filterFleet(rows, { ...NO_FILTER, query: "bytes" }).map((r) => r.thing)).toEqual(["cam-lobby-017"]);
  });
  it("by category, violations and quarantine", () => {
    expect(filterFleet(rows, { ...NO_FILTER, category: "backdoor-recon" })).toHaveLength(1);
    expect(filterFleet(rows, { ...NO_FILTER, onlyViolations: true })[0].thing).toBe("cam-lobby-017");
    expect(filterFleet(rows, { ...NO_FILTER, onlyQuarantined: true })[0].thing).toBe("gw-plant-03");
  });
  it("by investigation state", () => {
    expect(filterFleet(rows, { ...NO_FILTER, caseState: "investigating" }).map((r) => r.thing)).toEqual(["sensor-1"]);
    expect(filterFleet(rows, { ...NO_FILTER, caseState: "new" })).toHaveLength(2);
    expect(filterFleet(rows, { ...NO_FILTER, caseState: "benign" })).toHaveLength(0);
  });
  it("stay fast at 100,000 things", () => {
    const many = Array.from({ length: 100_000 }, (_, i) => row(`thing-${i}`));
    expect(filterFleet(many, { ...NO_FILTER, query: "thing-99999" })).toHaveLength(1);
  });
});

describe("keys", () => {
  it("map to actions, leaving text fields alone except Esc", () => {
    expect(keyAction("/", false)).toBe("search");
    expect(keyAction("j", false)).toBe("down");
    expect(keyAction("k", false)).toBe("up");
    expect(keyAction("Enter", false)).toBe("open");
    expect(keyAction("?", false)).toBe("help");
    expect(keyAction("Escape", true)).toBe("back");
    expect(keyAction("j", true)).toBeNull();
    expect(keyAction("j", false, true)).toBeNull();
  });
});

describe("chart geometry", () => {
  const g = { left: 50, width: 500, x_from: 0, x_to: 1_000_000 };
  it("maps pixels to time inside the plot only", () => {
    expect(timeAt(50, g)).toBe(0);
    expect(timeAt(300, g)).toBe(500_000);
    expect(timeAt(10, g)).toBeNull();
  });
  it("brushes to a window, clamped, ignoring clicks", () => {
    expect(brushWindow(300, 100, g)).toEqual({ from: 100_000, to: 500_000 });
    expect(brushWindow(0, 700, g)).toEqual({ from: 0, to: 1_000_000 });
    expect(brushWindow(100, 102, g)).toBeNull();
  });
  it("finds the hover value of a column, or the nearest reported one", () => {
    const h: ([number, number] | null)[] = [[1, 1], null, [2, 5], null, null, null, null, null, null, [3, 3]];
    expect(hoverAt(h, 0, 1000, 250)).toEqual([2, 5]);
    expect(hoverAt(h, 0, 1000, 150)).toEqual([1, 1]); // a tie goes to the earlier column
    expect(hoverAt(h, 0, 1000, 999)).toEqual([3, 3]);
    expect(hoverAt(h, 0, 1000, 600)).toEqual([3, 3]);
    expect(hoverAt([null, null, null, null, null, [1, 2]], 0, 600, 50)).toBeNull();
    expect(hoverAt(h, 0, 1000, 2000)).toBeNull();
    expect(hoverAt([], 0, 1, 0)).toBeNull();
  });
});

describe("chartScale", () => {
  it("follows the display's pixel ratio within 1 to 3, in quarter steps", () => {
    expect(chartScale(1)).toBe(1);
    expect(chartScale(2)).toBe(2);
    expect(chartScale(1.1)).toBe(1.25);
    expect(chartScale(1.5)).toBe(1.5);
    expect(chartScale(0.5)).toBe(1);
    expect(chartScale(8)).toBe(3);
    expect(chartScale(undefined)).toBe(1);
    expect(chartScale(NaN)).toBe(1);
    expect(chartScale(0)).toBe(1);
  });
});

describe("defaultViolation", () => {
  const v = (violation_id: string, started: number | null, ended: number | null) => ({ violation_id, started, ended });
  it("acts on the newest violation still in alarm, else the newest", () => {
    expect(defaultViolation([])).toBe(null);
    expect(defaultViolation([v("old-open", 1, null), v("new-closed", 9, 10), v("mid-open", 5, null)])).toBe("mid-open");
    expect(defaultViolation([v("a", 1, 2), v("b", 7, 8), v("c", 3, 4)])).toBe("b");
    expect(defaultViolation([v("unknown-start", null, null)])).toBe("unknown-start");
  });
});
