import { useCallback, useEffect, useLayoutEffect, useState } from "react";
import { flushSync } from "react-dom";
import type { Common } from "../App";
import { api } from "../api";
import type { ActionRequest, ChartRequest, Look, ThingPage, ThingRequest } from "../bindings";
import { ActionDialog } from "../components/ActionDialog";
import { useDialog, useMitigationActions } from "../hooks";
import { Chart } from "../components/Chart";
import { Provenance } from "../components/Provenance";
import { CATEGORY_LABELS, chartScale, defaultViolation, formatTime, resolveRange, type Prefs, type Route } from "../state";

const CHART_W = 620;
const CHART_H = 230;

/** Performance marks for the benchmark: when the last chart image of a page has loaded, when
 *  the last is decoded, and when it has been painted (two animation frames later), relative to
 *  the click that opened it. */
let loadedCount = 0;
let paintedCount = 0;
function markLoaded(total: number) {
  loadedCount += 1;
  if (loadedCount === total) performance.mark("ddesk:images-loaded");
}
function markPainted(total: number, done: () => void) {
  paintedCount += 1;
  if (paintedCount === total) {
    performance.mark("ddesk:images-decoded");
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        const g = globalThis as { __ddeskOpenedAt?: number; __ddeskChartsMs?: number };
        performance.mark("ddesk:painted");
        if (g.__ddeskOpenedAt !== undefined) g.__ddeskChartsMs = performance.now() - g.__ddeskOpenedAt;
        document.body.dataset.chartsPainted = String(total);
        done();
      }),
    );
  }
}

/** The first request a thing's screen makes: the route's window, else a custom range, else the
 *  engine's default (the week to the thing's newest report). Triage asks it ahead of the screen. */
export function thingRequest(thing: string, route: { from?: number; to?: number }, prefs: Prefs, zone: string): ThingRequest {
  let w: { from: number | null; to: number | null };
  if (route.from !== undefined && route.to !== undefined) w = { from: route.from, to: route.to };
  else if (prefs.range.kind === "custom") w = resolveRange(prefs.range, null);
  else w = { from: null, to: null };
  return { thing, from: w.from, to: w.to, look: { width: CHART_W, height: CHART_H, tz: zone, theme: prefs.theme, scale: chartScale(globalThis.devicePixelRatio) } };
}

export function Thing({ prefs, zone, go, keys, route, refreshStatus }: Common & { route: Extract<Route, { screen: "thing" }> }) {
  const [page, setPage] = useState<ThingPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dialog, setDialog] = useDialog<{ req: ActionRequest; title: string }>(keys);
  const [note, setNote] = useState<string | null>(null);
  const [mitigation, setMitigation] = useState("");
  const [shown, setShown] = useState(false);
  const [target, setTarget] = useState<string | null>(null);
  const look: Look = thingRequest(route.thing, route, prefs, zone).look;

  const load = useCallback(() => {
    const first = thingRequest(route.thing, route, prefs, zone);
    const started = performance.now();
    api
      .thing(first)
      .then((p) => {
        if (first.from === null && prefs.range.kind === "quick") {
          // A quick range ends at the thing's newest report: ask again only when it differs from the default week.
          const q = resolveRange(prefs.range, p.to);
          if (q.from !== p.from) {
            return api.thing({ thing: route.thing, from: q.from, to: q.to, look });
          }
        }
        return p;
      })
      .then(
        (p) => {
          performance.mark("ddesk:ipc-done");
          loadedCount = 0;
          paintedCount = 0;
          delete document.body.dataset.chartsPainted;
          setShown(false);
          // Rendered in this task, not one the scheduler queues behind a frame: the images
          // start loading at once.
          flushSync(() => {
            setPage(p);
            setError(null);
          });
          (globalThis as { __ddeskThingMs?: number }).__ddeskThingMs = performance.now() - started;
        },
        (e: Error) => setError(e.message),
      );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [route.thing, route.from, route.to, prefs.range, zone, prefs.theme]);
  useEffect(load, [load]);
  // Marked when React has put the page in the document (before the browser paints it).
  useLayoutEffect(() => {
    if (page) performance.mark("ddesk:rendered");
  }, [page]);

  // The account's mitigation actions (a call to AWS on a real account) are asked for once the
  // charts are on screen, never in their way.
  const mitigations = useMitigationActions("violation", shown || (page !== null && page.charts.length === 0));

  const chartReq = (metric: string): ChartRequest => ({ thing: route.thing, metric, from: page!.from, to: page!.to, look: { ...look, width: 1200, height: 400 } });

  if (error) {
    return (
      <section className="screen">
        <p className="error" role="alert">
          {error}
        </p>
        <button onClick={() => go({ screen: "triage" })}>Back to triage</button>
      </section>
    );
  }
  if (!page) return <section className="screen">Loading {route.thing}…</section>;

  const changed = page.diff.filter((d) => d.change !== "unchanged");
  const violation = page.violations.find((v) => v.violation_id === target) ?? page.violations.find((v) => v.violation_id === defaultViolation(page.violations));
  return (
    <section className="screen thing" data-testid="thing-page" data-thing={page.thing}>
      <div className="toolbar">
        <button onClick={() => go({ screen: "triage" })} title="Back (Esc)">
          ← Triage
        </button>
        <h1 data-testid="thing-title">{page.thing}</h1>
        {page.quarantined && (
          <span className="badge q" data-testid="quarantined-badge">
            QUARANTINED
          </span>
        )}
        <span className="score-big">risk {page.score.toFixed(1)}</span>
        <span className="spacer" />
        {!page.quarantined ? (
          <button
            className="danger"
            data-testid="quarantine"
            onClick={() =>
              setDialog({
                title: `Quarantine ${page.thing}`,
                req: { action: "quarantine", thing: page.thing, group: "Quarantine", create_group: false, deactivate_certificate: false },
              })
            }
          >
            Quarantine
          </button>
        ) : (
          <button data-testid="release" onClick={() => setDialog({ title: `Release ${page.thing}`, req: { action: "release", thing: page.thing } })}>
            Release
          </button>
        )}
        <select className="mitigation-pick" aria-label="Mitigation action" data-testid="mitigation-action" value={mitigation} onChange={(e) => setMitigation(e.target.value)} disabled={!mitigations.length}>
          <option value="">{mitigations.length ? "Mitigation action…" : "No mitigation actions"}</option>
          {mitigations.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
        <button
          disabled={!mitigation || !violation}
          data-testid="mitigate"
          title={violation ? `On the violation of ${violation.behavior} (choose another under Violations)` : "No violation to act on"}
          onClick={() =>
            violation &&
            setDialog({
              title: `Run ${mitigation} on ${page.thing} (${violation.behavior}, ${formatTime(violation.started, prefs.tz)})`,
              req: { action: "mitigate_violation", violation: violation.violation_id, name: mitigation },
            })
          }
        >
          Run mitigation
        </button>
        <button onClick={() => api.exportCsv(page.thing, page.from, page.to).then((s) => setNote(`Saved ${s.path}`), (e: Error) => setNote(e.message))}>CSV</button>
        <button
          data-testid="report"
          onClick={() => api.report({ thing: page.thing, from: page.from, to: page.to, look }).then((s) => setNote(`Report saved to ${s.path}`), (e: Error) => setNote(e.message))}
        >
          Incident report
        </button>
      </div>
      <Provenance status={page.status} tz={prefs.tz} />
      <p className="window">
        {formatTime(page.from, prefs.tz)} → {formatTime(page.to, prefs.tz)} · groups: {page.groups.length ? page.groups.join(", ") : "none known"}
        {(route.from !== undefined || prefs.range.kind === "custom") && (
          <button className="small" onClick={() => go({ screen: "thing", thing: page.thing })}>
            reset zoom
          </button>
        )}
      </p>
      {note && (
        <p className="note" data-testid="note">
          {note}
        </p>
      )}
      {page.reasons.length > 0 && (
        <ul className="reasons-list" data-testid="reasons">
          {page.reasons.map((r, i) => (
            <li key={i}>
              {r.categories.map((c) => (
                <span key={c} className={`cat cat-${c}`}>
                  {CATEGORY_LABELS[c]}
                </span>
              ))}{" "}
              {r.text} <span className="muted">({r.source})</span>
            </li>
          ))}
        </ul>
      )}
      <div className="charts" data-testid="charts">
        {page.charts.map((c) => (
          <Chart
            key={c.metric}
            chart={c}
            tz={prefs.tz}
            onLoaded={() => markLoaded(page.charts.length)}
            onPainted={() => markPainted(page.charts.length, () => setShown(true))}
            onZoom={(w) => go({ screen: "thing", thing: page.thing, from: w.from, to: w.to })}
            onExport={() => api.exportChartPng(chartReq(c.metric)).then((s) => setNote(`Saved ${s.path}`), (e: Error) => setNote(e.message))}
          />
        ))}
      </div>
      <div className="panels">
        <div className="panel">
          <h2>Port and destination drift</h2>
          {changed.length === 0 ? (
            <p className="muted">No change between the start and the end of the window.</p>
          ) : (
            <table data-testid="diff">
              <thead>
                <tr>
                  <th>Metric</th>
                  <th>Member</th>
                  <th>Change</th>
                </tr>
              </thead>
              <tbody>
                {changed.map((d, i) => (
                  <tr key={i} className={d.attack_surface ? "attack" : ""}>
                    <td>{d.metric}</td>
                    <td>
                      {d.value}
                      {d.attack_surface && " ⚠ attack surface"}
                    </td>
                    <td>{d.change}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>Intervals</h3>
          <table className="compact">
            <thead>
              <tr>
                <th>Metric</th>
                <th>Member</th>
                <th>Opened</th>
                <th>Closed</th>
              </tr>
            </thead>
            <tbody>
              {page.drift.slice(0, 200).map((d, i) => (
                <tr key={i} className={d.attack_surface && !d.expected ? "attack" : ""}>
                  <td>{d.metric}</td>
                  <td>
                    {d.value}
                    {d.expected ? "" : " (not expected)"}
                  </td>
                  <td>{formatTime(d.opened, prefs.tz)}</td>
                  <td>{d.closed ? formatTime(d.closed, prefs.tz) : "open"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="panel">
          <h2>Timeline</h2>
          <ul className="timeline" data-testid="timeline">
            {page.timeline.map((e, i) => (
              <li key={i} className={`tl-${e.kind}`}>
                <span className="when">{formatTime(e.t, prefs.tz)}</span> <span className="kind">{e.kind}</span> {e.what}
              </li>
            ))}
            {page.timeline.length === 0 && <li className="muted">Nothing recorded.</li>}
          </ul>
          <h2>Violations</h2>
          <table className="compact" data-testid="violations">
            <thead>
              <tr>
                <th title="The violation Run mitigation acts on">Act on</th>
                <th>Behavior</th>
                <th>Security profile</th>
                <th>Started</th>
                <th>Ended</th>
                <th title="ML Detect's confidence level">Confidence</th>
                <th title="The analyst's verification state and note">Verification</th>
              </tr>
            </thead>
            <tbody>
              {page.violations.map((v) => (
                <tr key={v.violation_id}>
                  <td>
                    <input
                      type="radio"
                      name="mitigation-target"
                      data-testid="violation-target"
                      aria-label={`Act on the violation of ${v.behavior}`}
                      checked={violation?.violation_id === v.violation_id}
                      onChange={() => setTarget(v.violation_id)}
                    />
                  </td>
                  <td>{v.behavior}</td>
                  <td>{v.security_profile}</td>
                  <td>{formatTime(v.started, prefs.tz)}</td>
                  <td>{v.ended ? formatTime(v.ended, prefs.tz) : "in alarm"}</td>
                  <td data-testid="violation-confidence">{v.confidence ?? "—"}</td>
                  <td title={v.verification_description ?? undefined}>
                    {v.verification_state ?? "—"}
                    {v.verification_description && <span className="muted"> — {v.verification_description}</span>}
                  </td>
                </tr>
              ))}
              {page.violations.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    None recorded.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </div>
      {dialog && (
        <ActionDialog
          request={dialog.req}
          title={dialog.title}
          onClose={(done) => {
            setDialog(null);
            if (done) {
              load();
              refreshStatus();
            }
          }}
        />
      )}
    </section>
  );
}
