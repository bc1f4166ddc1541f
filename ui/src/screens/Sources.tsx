import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { Common } from "../App";
import { api, onSyncProgress, queries, queryClient, useWrite } from "../api";
import type { DemoAccount, Estimate, Health, SourceInput, SourceKind, SyncEvent, SyncSummary } from "../bindings";
import { useDialog, useWatch } from "../hooks";
import { ago, formatBytes, formatTime, formatUsd } from "../lib";
import { type Fields, FORMS, given } from "./sources/forms";
import { History } from "./sources/History";

type Progress = Record<string, Extract<SyncEvent, { event: "progress" }> | { event: "source_finished"; ok: boolean; error: string | null }>;

export function Sources({ prefs, keys, status, refreshStatus }: Common) {
  const listed = useQuery(queries.sources());
  const sources = listed.data ?? [];
  const [kind, setKind] = useState<SourceKind>("s3");
  const [name, setName] = useState("");
  const [fields, setFields] = useState<Fields>({});
  const [error, setError] = useState<string | null>(null);
  const write = useWrite<unknown>();
  const [tests, setTests] = useState<Record<string, Health>>({});
  const watch = useWatch();
  const [progress, setProgress] = useState<Progress>({});
  const [syncing, setSyncing] = useState(false);
  const [summary, setSummary] = useState<SyncSummary | null>(null);
  const [removing, setRemoving] = useDialog<string>(keys);
  // What the Athena sources' screens would scan and cost, shown before they run.
  const [estimates, setEstimates] = useDialog<Estimate[]>(keys);

  useEffect(() => {
    const un = onSyncProgress((e) => {
      if (e.event === "progress") setProgress((p) => ({ ...p, [e.source]: e }));
      if (e.event === "source_finished") setProgress((p) => ({ ...p, [e.source]: { event: "source_finished", ok: e.ok, error: e.error } }));
    });
    return () => void un.then((f) => f());
  }, []);

  const form = FORMS[kind];
  const bind = (field: string) => ({
    value: fields[field] ?? "",
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setFields({ ...fields, [field]: e.target.value }),
  });

  const add = (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    const input: SourceInput = {
      name: name.trim(),
      settings: form.settings(fields),
      token: form.secret ? (given(fields, form.secret) ?? null) : null,
    };
    // On success every screen's answers (the list, the status) are asked again.
    write.mutate(() => api.addSource(input), {
      onSuccess: () => {
        setName("");
        setFields({});
      },
      onError: (err) => setError(err.message),
    });
  };

  const askSync = async () => {
    setError(null);
    if (!sources.some((s) => s.kind === "athena")) return sync();
    try {
      setEstimates(await api.screenEstimates());
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const sync = async () => {
    setEstimates(null);
    setSyncing(true);
    setSummary(null);
    setProgress({});
    try {
      setSummary(await api.sync());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSyncing(false);
      refreshStatus();
    }
  };

  return (
    <section className="screen sources" data-testid="sources">
      <div className="toolbar">
        <h1>Sources & sync</h1>
        <button type="button" className="primary" data-testid="sync" disabled={syncing || sources.length === 0} onClick={askSync}>
          {syncing ? "Syncing…" : "Sync now"}
        </button>
        {syncing && (
          <button type="button" data-testid="cancel-sync" onClick={() => api.cancelSync()}>
            Cancel
          </button>
        )}
        {status?.mode === "demo" && <span className="muted">Showing the DEMO fleet until a source is added.</span>}
        {status?.mode === "demo" && (
          <label className="muted">
            Demo account{" "}
            <select
              data-testid="demo-account"
              value={status.demo_account}
              onChange={(e) => api.setDemoAccount(e.target.value as DemoAccount).then(refreshStatus, (err: Error) => setError(err.message))}
            >
              <option value="detect">with Detect</option>
              <option value="no-detect">without Detect: device reports and lifecycle events</option>
            </select>
          </label>
        )}
      </div>
      {(error ?? listed.error) && (
        <p className="error" role="alert" data-testid="sources-error">
          {error ?? listed.error?.message}
        </p>
      )}
      <table className="compact" data-testid="source-list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Kind</th>
            <th>Where</th>
            <th>Last sync</th>
            <th>Progress</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {sources.map((s) => {
            const p = progress[s.name];
            const w = watch?.sources.find((x) => x.source === s.name);
            return (
              <tr key={s.name}>
                <td>{s.name}</td>
                <td>{s.kind}</td>
                <td>
                  {s.target}
                  {FORMS[s.kind].secret && (
                    <span className="muted">
                      {" "}
                      · {FORMS[s.kind].secret} {s.has_secret ? "in OS keychain" : "MISSING"}
                    </span>
                  )}
                </td>
                <td>
                  {s.last_sync
                    ? `${formatTime(s.last_sync, prefs.tz)} (${ago(s.last_sync, Date.now())}) ${s.last_ok ? "OK" : "with errors"}`
                    : "never"}
                  {s.last_errors.slice(0, 3).map((e, i) => (
                    <div key={i} className="error small">
                      {e}
                    </div>
                  ))}
                </td>
                <td>
                  {p && p.event === "progress" && (
                    <>
                      <progress max={p.total || 1} value={p.total ? p.done : 0} /> {p.done}
                      {p.total ? `/${p.total}` : ""} · {p.datapoints} points
                    </>
                  )}
                  {p && p.event === "source_finished" && (p.ok ? "done" : `failed: ${p.error ?? "see errors"}`)}
                  {w && (
                    <div className="small muted" data-testid="source-schedule">
                      {w.paused ? "scheduled syncs paused" : `next sync ${formatTime(w.next_sync, prefs.tz)}`}
                      {w.failures > 0 && ` · ${w.failures} failure(s) in a row${w.throttled ? " (throttled)" : ""}, waiting longer`}
                    </div>
                  )}
                </td>
                <td>
                  <button
                    type="button"
                    data-testid="pause-source"
                    onClick={() =>
                      api.pauseSource(s.name, !w?.paused).then(
                        (v) => queryClient.setQueryData(queries.watch().queryKey, v),
                        (e: Error) => setError(e.message),
                      )
                    }
                  >
                    {w?.paused ? "Resume" : "Pause"}
                  </button>
                  <button
                    type="button"
                    onClick={() =>
                      api.testSource(s.name).then(
                        (h) => setTests({ ...tests, [s.name]: h }),
                        (e: Error) => setTests({ ...tests, [s.name]: { status: "error", message: e.message, hint: null, kind: null } }),
                      )
                    }
                  >
                    Test
                  </button>
                  <button type="button" data-testid="remove-source" onClick={() => setRemoving(s.name)}>
                    Remove
                  </button>
                  {tests[s.name] && (
                    <div className={`small health-${tests[s.name].status}`} data-testid="source-health">
                      {tests[s.name].status === "ok" ? "OK" : tests[s.name].status === "warn" ? "Warning" : "Error"}:{" "}
                      {tests[s.name].message}
                      {tests[s.name].hint && <div className="muted">{tests[s.name].hint}</div>}
                    </div>
                  )}
                </td>
              </tr>
            );
          })}
          {sources.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                No source yet: add one below.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {summary && (
        <p className={summary.errors.length ? "error" : "ok"} data-testid="sync-summary">
          {summary.cancelled ? "Cancelled. " : ""}
          {summary.datapoints} datapoints, {summary.violation_events} violation events, {summary.audit_findings} findings from{" "}
          {summary.objects_fetched} objects.
          {summary.sources
            .filter((s) => s.kind === "athena")
            .map(
              (s) =>
                ` ${s.source}: ${s.things_screened} things screened by Athena, ${s.candidates} candidates, ${s.queries} queries scanned ${formatBytes(s.bytes_scanned)} for ${formatUsd(s.cost_usd)}.`,
            )}
          {summary.errors.length > 0 &&
            ` ${summary.errors.length} error(s): ${summary.errors.map((e) => `${e.source}${e.object ? ` ${e.object}` : ""}: ${e.error}`).join("; ")}`}
        </p>
      )}
      <form className="add-source" onSubmit={add} data-testid="add-source-form">
        <h2>Add a source</h2>
        <label>
          Name <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value as SourceKind)}>
            {Object.entries(FORMS).map(([k, f]) => (
              <option key={k} value={k}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <p className="muted" data-testid="source-expects">
          {form.expects}
        </p>
        <form.Inputs bind={bind} />
        <button className="primary" type="submit">
          Add source
        </button>
      </form>
      {estimates !== null && (
        <div className="modal-backdrop">
          <div className="modal" role="dialog" aria-label="Athena screening cost" data-testid="estimate-dialog">
            <h2>Screen with Athena?</h2>
            <ul data-testid="estimates">
              {estimates.map((e) => (
                <li key={e.source} className={e.refused ? "error" : undefined}>
                  {e.source}: {e.queries} queries, each scanning about {formatBytes(e.bytes_per_query)} of {e.location} — about{" "}
                  {formatUsd(e.cost_usd)}
                  {e.refused && ` — above its limit of ${formatBytes(e.max_scan_bytes)} a query: it will be refused`}
                </li>
              ))}
            </ul>
            <p className="muted">
              Athena bills every byte of the partitions a query reads ($5 per TB, 10 MB at least); a screen repeated within the hour reuses
              its results for nothing.
            </p>
            <div className="buttons">
              <button type="button" className="primary" data-testid="confirm-sync" onClick={sync}>
                Sync now
              </button>
              <button type="button" onClick={() => setEstimates(null)}>
                Cancel
              </button>
            </div>
          </div>
        </div>
      )}
      <History tz={prefs.tz} />
      {removing !== null && (
        <div className="modal-backdrop">
          <div className="modal" role="dialog" aria-label={`Remove source ${removing}`} data-testid="remove-dialog">
            <h2>Remove source {removing}?</h2>
            <p>Its secret is deleted from the OS keychain and it is no longer synced. The data already synced stays in the cache.</p>
            <div className="buttons">
              <button
                type="button"
                className="danger"
                data-testid="confirm-remove"
                onClick={() => {
                  const name = removing;
                  setRemoving(null);
                  write.mutate(() => api.removeSource(name), { onError: (e) => setError(e.message) });
                }}
              >
                Remove {removing}
              </button>
              <button type="button" onClick={() => setRemoving(null)}>
                Cancel
              </button>
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
