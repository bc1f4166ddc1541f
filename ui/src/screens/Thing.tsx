import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { flushSync } from "react-dom";
import type { Common } from "../App";
import { api, queries, queryClient } from "../api";
import type { ActionRequest, ChartRequest, Look, ThingPage, ThingRequest } from "../bindings";
import { ActionDialog } from "../components/ActionDialog";
import { CasePanel } from "../components/CasePanel";
import { useDialog, useMitigationActions } from "../hooks";
import { Chart } from "../components/Chart";
import { Provenance } from "../components/Provenance";
import { perf } from "../perf";
import { DriftPanel } from "./thing/DriftPanel";
import { DrillDown } from "./thing/DrillDown";
import { TimelineList } from "./thing/TimelineList";
import { ViolationsTable } from "./thing/ViolationsTable";
import {
  CATEGORY_LABELS,
  chartScale,
  defaultViolation,
  type ErrorView,
  errorView,
  formatTime,
  resolveRange,
  type Prefs,
  type Route,
} from "../lib";

const CHART_W = 620;
const CHART_H = 230;

/** The first request a thing's screen makes: the route's window, else a custom range, else the
 *  engine's default (the week to the thing's newest report). Triage asks it ahead of the screen. */
export function thingRequest(thing: string, route: { from?: number; to?: number }, prefs: Prefs, zone: string): ThingRequest {
  let w: { from: number | null; to: number | null };
  if (route.from !== undefined && route.to !== undefined) w = { from: route.from, to: route.to };
  else if (prefs.range.kind === "custom") w = resolveRange(prefs.range, null);
  else w = { from: null, to: null };
  return {
    thing,
    from: w.from,
    to: w.to,
    look: { width: CHART_W, height: CHART_H, tz: zone, theme: prefs.theme, scale: chartScale(globalThis.devicePixelRatio) },
  };
}

export function Thing({ prefs, zone, go, keys, route, refreshStatus }: Common & { route: Extract<Route, { screen: "thing" }> }) {
  const [page, setPage] = useState<ThingPage | null>(null);
  const [error, setError] = useState<ErrorView | null>(null);
  const [dialog, setDialog] = useDialog<{ req: ActionRequest; title: string }>(keys);
  const [note, setNote] = useState<string | null>(null);
  const [mitigation, setMitigation] = useState("");
  const [shown, setShown] = useState(false);
  // How many of the page's chart images have loaded and been painted: when all have, the page
  // is shown (and the E2E tests, which wait on `data-charts-painted`, may look).
  const loaded = useRef(0);
  const painted = useRef(0);
  const chartLoaded = (total: number) => {
    loaded.current += 1;
    if (loaded.current === total) perf.mark("images-loaded");
  };
  const chartPainted = (total: number) => {
    painted.current += 1;
    if (painted.current !== total) return;
    perf.mark("images-decoded");
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        perf.chartsPainted();
        document.body.dataset.chartsPainted = String(total);
        setShown(true);
      }),
    );
  };
  const [target, setTarget] = useState<string | null>(null);
  const look: Look = thingRequest(route.thing, route, prefs, zone).look;

  // biome-ignore lint/correctness/useExhaustiveDependencies: reloads only when the window, zone or theme change; `look` and `route` are derived from these
  const load = useCallback(() => {
    const first = thingRequest(route.thing, route, prefs, zone);
    const started = perf.now();
    // From the query cache: the page Triage asked for on the click, when it is that request.
    queryClient
      .fetchQuery(queries.thing(first))
      .then((p) => {
        if (first.from === null && prefs.range.kind === "quick") {
          // A quick range ends at the thing's newest report: ask again only when it differs from the default week.
          const q = resolveRange(prefs.range, p.to);
          if (q.from !== p.from) {
            return queryClient.fetchQuery(queries.thing({ thing: route.thing, from: q.from, to: q.to, look }));
          }
        }
        return p;
      })
      .then(
        (p) => {
          perf.mark("ipc-done");
          loaded.current = 0;
          painted.current = 0;
          delete document.body.dataset.chartsPainted;
          setShown(false);
          // Rendered in this task, not one the scheduler queues behind a frame: the images
          // start loading at once.
          flushSync(() => {
            setPage(p);
            setError(null);
          });
          perf.thingLoaded(started);
        },
        (e: unknown) => setError(errorView(e)),
      );
  }, [route.thing, route.from, route.to, prefs.range, zone, prefs.theme]);
  useEffect(load, [load]);
  // Marked when React has put the page in the document (before the browser paints it).
  useLayoutEffect(() => {
    if (page) perf.mark("rendered");
  }, [page]);

  // The account's mitigation actions (a call to AWS on a real account) are asked for once the
  // charts are on screen, never in their way.
  const mitigations = useMitigationActions("violation", shown || (page !== null && page.charts.length === 0));

  const chartReq = (metric: string): ChartRequest => ({
    thing: route.thing,
    metric,
    from: page!.from,
    to: page!.to,
    look: { ...look, width: 1200, height: 400 },
  });

  if (error) {
    return (
      <section className="screen">
        <div className="error" role="alert" data-testid="thing-error">
          <strong>{error.title}</strong>
          <p>{error.detail}</p>
        </div>
        {error.retry && (
          <button type="button" onClick={load}>
            Try again
          </button>
        )}
        <button type="button" onClick={() => go({ screen: "triage" })}>
          Back to triage
        </button>
      </section>
    );
  }
  if (!page) return <section className="screen">Loading {route.thing}…</section>;

  const violation =
    page.violations.find((v) => v.violation_id === target) ??
    page.violations.find((v) => v.violation_id === defaultViolation(page.violations));
  return (
    <section className="screen thing" data-testid="thing-page" data-thing={page.thing}>
      <div className="toolbar">
        <button type="button" onClick={() => go({ screen: "triage" })} title="Back (Esc)">
          ← Triage
        </button>
        <h1 data-testid="thing-title">{page.thing}</h1>
        <span className="muted" data-testid="thing-scope">
          {page.account ? `account ${page.account}${page.region ? ` · ${page.region}` : ""}` : "account unknown"}
        </span>
        {page.quarantined && (
          <span className="badge q" data-testid="quarantined-badge">
            QUARANTINED
          </span>
        )}
        <span className="score-big">risk {page.score.toFixed(1)}</span>
        <span className="spacer" />
        {!page.quarantined ? (
          <button
            type="button"
            className="danger"
            data-testid="quarantine"
            onClick={() =>
              setDialog({
                title: `Quarantine ${page.thing}`,
                req: { action: "quarantine", thing: page.key, group: "Quarantine", create_group: false, deactivate_certificate: false },
              })
            }
          >
            Quarantine
          </button>
        ) : (
          <button
            type="button"
            data-testid="release"
            onClick={() => setDialog({ title: `Release ${page.thing}`, req: { action: "release", thing: page.key } })}
          >
            Release
          </button>
        )}
        {page.hub_findings > 0 && (
          <button
            type="button"
            data-testid="hub-push"
            title={`Set the workflow status and note of the ${page.hub_findings} Security Hub finding(s) this thing's violations came through from its case`}
            onClick={() =>
              setDialog({
                title: `Push ${page.thing}'s case to Security Hub`,
                req: { action: "hub_case", thing: page.key, finding: null },
              })
            }
          >
            Push to Security Hub
          </button>
        )}
        <select
          className="mitigation-pick"
          aria-label="Mitigation action"
          data-testid="mitigation-action"
          value={mitigation}
          onChange={(e) => setMitigation(e.target.value)}
          disabled={!mitigations.length}
        >
          <option value="">{mitigations.length ? "Mitigation action…" : "No mitigation actions"}</option>
          {mitigations.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
        <button
          type="button"
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
        <button
          type="button"
          data-testid="copy-link"
          title="A defender-desk:// link to this thing and window, for a ticket, an alert or a chat"
          onClick={() =>
            api.thingLink(page.key, route.from !== undefined ? page.from : null, route.to !== undefined ? page.to : null).then(
              (link) =>
                navigator.clipboard?.writeText(link).then(
                  () => setNote(`Link copied: ${link}`),
                  () => setNote(`Link: ${link}`),
                ) ?? setNote(`Link: ${link}`),
              (e: Error) => setNote(e.message),
            )
          }
        >
          Copy link
        </button>
        <button
          type="button"
          onClick={() =>
            api.exportCsv(page.key, page.from, page.to).then(
              (s) => setNote(`Saved ${s.path}`),
              (e: Error) => setNote(e.message),
            )
          }
        >
          CSV
        </button>
        <button
          type="button"
          data-testid="report"
          onClick={() =>
            api.report({ thing: page.key, from: page.from, to: page.to, look }).then(
              (s) => setNote(`Report saved to ${s.path}`),
              (e: Error) => setNote(e.message),
            )
          }
        >
          Incident report
        </button>
      </div>
      <Provenance status={page.status} tz={prefs.tz} />
      <DrillDown thing={page.key} onRead={load} />
      <p className="window">
        {formatTime(page.from, prefs.tz)} → {formatTime(page.to, prefs.tz)} · groups:{" "}
        {page.groups.length ? page.groups.join(", ") : "none known"}
        {(route.from !== undefined || prefs.range.kind === "custom") && (
          <button type="button" className="small" onClick={() => go({ screen: "thing", thing: page.key })}>
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
      <CasePanel key={page.key} subject={{ thing: page.key }} initial={page.case} tz={prefs.tz} onChanged={refreshStatus} />
      <div className="charts" data-testid="charts">
        {page.charts.map((c) => (
          <Chart
            key={c.metric}
            chart={c}
            tz={prefs.tz}
            onLoaded={() => chartLoaded(page.charts.length)}
            onPainted={() => chartPainted(page.charts.length)}
            onZoom={(w) => go({ screen: "thing", thing: page.key, from: w.from, to: w.to })}
            onExport={() =>
              api.exportChartPng(chartReq(c.metric)).then(
                (s) => setNote(`Saved ${s.path}`),
                (e: Error) => setNote(e.message),
              )
            }
          />
        ))}
      </div>
      <div className="panels">
        <DriftPanel diff={page.diff} drift={page.drift} tz={prefs.tz} />
        <div className="panel">
          <TimelineList timeline={page.timeline} tz={prefs.tz} />
          <ViolationsTable
            violations={page.violations}
            target={violation?.violation_id ?? null}
            tz={prefs.tz}
            onTarget={setTarget}
            onVerify={(v, state) =>
              setDialog({
                title: `Set ${v.behavior} (${formatTime(v.started, prefs.tz)}) to ${state} in AWS`,
                req: { action: "verify_violation", violation: v.violation_id, state, description: null },
              })
            }
          />
        </div>
      </div>
      {dialog && (
        <ActionDialog
          request={dialog.req}
          title={dialog.title}
          onClose={(done) => {
            setDialog(null);
            if (done) {
              refreshStatus(); // first: the page is asked again, not taken from the cache
              load();
            }
          }}
        />
      )}
    </section>
  );
}
