import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import type { Common } from "../App";
import { api, queries } from "../api";
import { type ActionRequest, type Case, SEVERITIES, type Severity } from "../bindings";
import { ActionDialog } from "../components/ActionDialog";
import { CasePanel, STATES } from "../components/CasePanel";
import { useDialog, useMitigationActions } from "../hooks";
import { Provenance } from "../components/Provenance";
import { chartScale, formatTime } from "../lib";

export function Audit({ prefs, zone, keys, status, refreshStatus }: Common) {
  const mitigations = useMitigationActions("finding");
  const [mitigation, setMitigation] = useState("");
  const [dialog, setDialog] = useDialog<{ req: ActionRequest; title: string }>(keys);
  const [error, setError] = useState<string | null>(null);
  const [severities, setSeverities] = useState<readonly Severity[]>(SEVERITIES);
  const [showSuppressed, setShowSuppressed] = useState(true);
  // The finding whose investigation is open below the table, with its case as loaded.
  const [open, setOpen] = useState<{ finding: string; initial: Case } | null>(null);

  const investigate = (finding: string) => {
    if (open?.finding === finding) return setOpen(null);
    api.findingCase(finding).then(
      (initial) => setOpen({ finding, initial }),
      (e: Error) => setError(e.message),
    );
  };
  const stateOf = (finding: string) => page?.finding_states.find((s) => s.finding_id === finding);
  const label = (state: string) => STATES.find((s) => s.value === state)?.label ?? state;

  // The window: a custom range, else 90 days to a day after the newest data (now when there is
  // none), fixed until the range or the newest data change.
  const window = useMemo(() => {
    const to = prefs.range.kind === "custom" ? prefs.range.to : (status?.newest ?? Date.now()) + 86_400_000;
    return { from: prefs.range.kind === "custom" ? prefs.range.from : to - 90 * 86_400_000, to };
  }, [prefs.range, status?.newest]);
  const look = { width: 1100, height: 320, tz: zone, theme: prefs.theme, scale: chartScale(globalThis.devicePixelRatio) };
  // Asked again after a case or an action changes it (`refreshStatus` makes every answer stale).
  const query = useQuery(queries.audit(window.from, window.to, look));
  const page = query.data ?? null;

  const findings = (page?.findings ?? []).filter(
    (f) => f.severity !== null && severities.includes(f.severity) && (showSuppressed || !f.suppressed),
  );
  return (
    <section className="screen audit" data-testid="audit">
      <div className="toolbar">
        <h1>Audit</h1>
      </div>
      <Provenance status={page?.status ?? status} tz={prefs.tz} what="Audit tasks and findings" />
      {(error ?? query.error) && (
        <p className="error" role="alert">
          {error ?? query.error?.message}
        </p>
      )}
      {page && (
        <img className="audit-chart" src={page.chart.image} width={page.chart.width} height={page.chart.height} alt="Audit check history" />
      )}
      {page && (
        <>
          <h2>
            Latest task {page.latest_task ?? "—"} ({formatTime(page.latest_start, prefs.tz)})
          </h2>
          <table className="compact">
            <thead>
              <tr>
                <th>Check</th>
                <th>Status</th>
                <th>Non-compliant</th>
                <th>Evaluated</th>
                <th>Suppressed</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {page.checks.map((c) => (
                <tr key={c.check} className={c.non_compliant ? "attack" : ""}>
                  <td>{c.check}</td>
                  <td>{c.status}</td>
                  <td>{c.non_compliant ?? "—"}</td>
                  <td>{c.total ?? "—"}</td>
                  <td>{c.suppressed ?? "—"}</td>
                  <td data-testid="check-error" title={c.message ?? undefined}>
                    {c.error_code ? `${c.error_code}${c.message ? `: ${c.message}` : ""}` : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Findings</h2>
          <div className="toolbar">
            {SEVERITIES.map((s) => (
              <label key={s}>
                <input
                  type="checkbox"
                  checked={severities.includes(s)}
                  onChange={(e) => setSeverities(e.target.checked ? [...severities, s] : severities.filter((x) => x !== s))}
                />
                {s}
              </label>
            ))}
            <label>
              <input type="checkbox" checked={showSuppressed} onChange={(e) => setShowSuppressed(e.target.checked)} />
              show suppressed
            </label>
            <span className="count">{findings.length} findings</span>
            <span className="spacer" />
            <select
              className="mitigation-pick"
              aria-label="Mitigation action for findings"
              data-testid="finding-mitigation"
              value={mitigation}
              onChange={(e) => setMitigation(e.target.value)}
              disabled={!mitigations.length}
            >
              <option value="">{mitigations.length ? "Mitigation action…" : "No mitigation actions"}</option>
              {mitigations.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </div>
          <table className="compact" data-testid="findings">
            <thead>
              <tr>
                <th>Found</th>
                <th>Severity</th>
                <th>Check</th>
                <th>Resource</th>
                <th title="Related resources: the evidence beside the resource (client ids sharing a certificate, certificates of a client id, ...)">
                  Related
                </th>
                <th>Reason</th>
                <th>Suppressed</th>
                <th>Investigation</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {findings.slice(0, 1000).map((f) => (
                <tr key={f.finding_id}>
                  <td>{formatTime(f.found, prefs.tz)}</td>
                  <td className={`sev-${(f.severity ?? "").toLowerCase()}`}>{f.severity}</td>
                  <td>{f.check}</td>
                  <td>{f.resource}</td>
                  <td data-testid="finding-related">{f.related_resources.map((r) => `${r.type ?? "resource"} ${r.id}`).join(", ")}</td>
                  <td title={f.reason_code ?? undefined}>
                    {f.reason}
                    {f.reason_code && <span className="muted"> ({f.reason_code})</span>}
                  </td>
                  <td>{f.suppressed ? "yes" : ""}</td>
                  <td data-testid="finding-case">
                    {stateOf(f.finding_id) && (
                      <span className={`case-badge case-${stateOf(f.finding_id)?.state}`}>
                        {label(stateOf(f.finding_id)?.state ?? "new")}
                        {stateOf(f.finding_id)?.owner && ` · ${stateOf(f.finding_id)?.owner}`}
                      </span>
                    )}{" "}
                    <button
                      type="button"
                      className="small"
                      data-testid="investigate-finding"
                      aria-expanded={open?.finding === f.finding_id}
                      onClick={() => investigate(f.finding_id)}
                    >
                      {open?.finding === f.finding_id ? "Close" : "Investigate"}
                    </button>
                  </td>
                  <td>
                    <button
                      type="button"
                      className="small"
                      data-testid="mitigate-finding"
                      disabled={!mitigation}
                      title={mitigation ? `Run ${mitigation} on this finding` : "Choose a mitigation action first"}
                      onClick={() =>
                        setDialog({
                          title: `Run ${mitigation} on the ${f.check} finding for ${f.resource}`,
                          req: { action: "mitigate_finding", finding: f.finding_id, name: mitigation },
                        })
                      }
                    >
                      Mitigate
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {open && (
            <CasePanel
              key={open.finding}
              subject={{ finding: open.finding }}
              initial={open.initial}
              tz={prefs.tz}
              onChanged={refreshStatus}
            />
          )}
        </>
      )}
      {dialog && (
        <ActionDialog
          request={dialog.req}
          title={dialog.title}
          onClose={(done) => {
            setDialog(null);
            if (done) refreshStatus();
          }}
        />
      )}
    </section>
  );
}
