/** Benchmark instrumentation (`tests/e2e/test_app.py --bench`, BENCHMARKS.md): performance
 *  marks from a click on a thing to its charts painted, and the spans the benchmark reads from
 *  `window.__ddesk*`. Inert — no marks, no globals — unless the benchmark turned it on for this
 *  profile (`localStorage["ddesk.perf"] = "1"`) before the page loaded. */

type Spans = { __ddeskOpenedAt?: number; __ddeskChartsMs?: number; __ddeskThingMs?: number; __ddeskTriageMs?: number };

function readEnabled(): boolean {
  try {
    return globalThis.localStorage?.getItem("ddesk.perf") === "1";
  } catch {
    return false;
  }
}

const enabled = readEnabled();
const spans = globalThis as Spans;

export const perf = {
  enabled,
  /** A named step (`ddesk:<name>`). */
  mark(name: string) {
    if (enabled) performance.mark(`ddesk:${name}`);
  },
  /** A click on a thing: the marks start again from here. */
  clicked() {
    if (!enabled) return;
    spans.__ddeskOpenedAt = performance.now();
    performance.clearMarks();
    performance.mark("ddesk:click");
  },
  /** The triage rows are in the document (once per page load). */
  triageShown() {
    if (enabled && spans.__ddeskTriageMs === undefined) spans.__ddeskTriageMs = performance.now();
  },
  /** A thing's page arrived and was rendered, `since` being when it was asked for. */
  thingLoaded(since: number) {
    if (enabled) spans.__ddeskThingMs = performance.now() - since;
  },
  /** Every chart of the page is painted. */
  chartsPainted() {
    if (!enabled) return;
    performance.mark("ddesk:painted");
    if (spans.__ddeskOpenedAt !== undefined) spans.__ddeskChartsMs = performance.now() - spans.__ddeskOpenedAt;
  },
  /** Now, for a span's start (0 when off: nothing reads it). */
  now(): number {
    return enabled ? performance.now() : 0;
  },
};
