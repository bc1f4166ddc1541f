import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { Common } from "../App";
import { api, onSyncEvent, queries, queryClient } from "../api";
import type { DemoAccount, SourceInput, SyncEvent, SyncSummary } from "../bindings";
import { useDialog, useWatch } from "../hooks";
import { ago, formatTime } from "../lib";

const EMPTY: SourceInput = {
  name: "",
  kind: "s3",
  bucket: null,
  prefix: null,
  url: null,
  index: null,
  token: null,
  region: null,
  profile: null,
  endpoint_url: null,
  ca_bundle: undefined,
};

/** What each kind of source is expected to hold — with or without AWS Detect. */
export const EXPECTS: Record<string, string> = {
  s3:
    "A bucket that Kinesis Firehose writes to (records run together, gzip or not): Device Defender metrics exports, " +
    "Detect violations and Audit findings — or, for an account without Detect, the raw device metrics reports and " +
    "lifecycle events that IoT rules deliver (SELECT *, topic() AS topic FROM '$aws/things/+/defender/metrics/+' and " +
    "SELECT * FROM '$aws/events/presence/+/+'). The prefix is the delivery stream's.",
  splunk:
    "An index searched through Splunk's REST API (port 8089): the AWS Splunk sample's events, or device reports and " +
    "lifecycle events an IoT rule sends through an HTTP Event Collector action — give the sourcetype the rule sets.",
  defender:
    "The Device Defender API of an account: Detect violations (where Detect is enabled), Audit findings and mitigation " +
    "history, security profiles' behaviors, and the registry's thing types and groups for the peer comparison.",
};

type Progress = Record<string, Extract<SyncEvent, { event: "progress" }> | { event: "source_finished"; ok: boolean; error: string | null }>;

export function Sources({ prefs, keys, status, refreshStatus }: Common) {
  const listed = useQuery(queries.sources());
  const sources = listed.data ?? [];
  const [form, setForm] = useState<SourceInput>(EMPTY);
  const [error, setError] = useState<string | null>(null);
  const [tests, setTests] = useState<Record<string, string>>({});
  const watch = useWatch();
  const [progress, setProgress] = useState<Progress>({});
  const [syncing, setSyncing] = useState(false);
  const [summary, setSummary] = useState<SyncSummary | null>(null);
  const [removing, setRemoving] = useDialog<string>(keys);

  useEffect(() => {
    const un = onSyncEvent((e) => {
      if (e.event === "progress") setProgress((p) => ({ ...p, [e.source]: e }));
      if (e.event === "source_finished") setProgress((p) => ({ ...p, [e.source]: { event: "source_finished", ok: e.ok, error: e.error } }));
    });
    return () => void un.then((f) => f());
  }, []);

  const set = (k: keyof SourceInput) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setForm({ ...form, [k]: e.target.value === "" ? null : e.target.value });

  const add = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.addSource(form);
      setForm({ ...EMPTY, kind: form.kind });
      refreshStatus(); // the list, the status and every screen's answers are asked again
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const sync = async () => {
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
        <button type="button" className="primary" data-testid="sync" disabled={syncing || sources.length === 0} onClick={sync}>
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
                  {s.kind === "splunk" && <span className="muted"> · token {s.has_secret ? "in OS keychain" : "MISSING"}</span>}
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
                        (m) => setTests({ ...tests, [s.name]: m }),
                        (e: Error) => setTests({ ...tests, [s.name]: e.message }),
                      )
                    }
                  >
                    Test
                  </button>
                  <button type="button" data-testid="remove-source" onClick={() => setRemoving(s.name)}>
                    Remove
                  </button>
                  {tests[s.name] && <div className="small">{tests[s.name]}</div>}
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
          {summary.errors.length > 0 &&
            ` ${summary.errors.length} error(s): ${summary.errors.map((e) => `${e.source}${e.object ? ` ${e.object}` : ""}: ${e.error}`).join("; ")}`}
        </p>
      )}
      <form className="add-source" onSubmit={add} data-testid="add-source-form">
        <h2>Add a source</h2>
        <label>
          Name <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </label>
        <label>
          Kind
          <select value={form.kind} onChange={set("kind")}>
            <option value="s3">S3 (Firehose metrics export)</option>
            <option value="splunk">Splunk (REST search)</option>
            <option value="defender">Device Defender API</option>
          </select>
        </label>
        <p className="muted" data-testid="source-expects">
          {EXPECTS[form.kind] ?? ""}
        </p>
        {form.kind === "s3" && (
          <>
            <label>
              Bucket <input value={form.bucket ?? ""} onChange={set("bucket")} />
            </label>
            <label>
              Prefix <input value={form.prefix ?? ""} onChange={set("prefix")} />
            </label>
          </>
        )}
        {form.kind === "splunk" && (
          <>
            <label>
              URL <input placeholder="https://splunk.example:8089" value={form.url ?? ""} onChange={set("url")} />
            </label>
            <label>
              Index <input value={form.index ?? ""} onChange={set("index")} />
            </label>
            <label>
              Token (kept in the OS keychain only){" "}
              <input type="password" autoComplete="off" value={form.token ?? ""} onChange={set("token")} />
            </label>
            <label>
              CA bundle (PEM file, for a self-signed certificate){" "}
              <input placeholder="/etc/ssl/splunk-ca.pem" value={form.ca_bundle ?? ""} onChange={set("ca_bundle")} />
            </label>
            <label>
              Sourcetype <input placeholder="aws-iot-device-defender" value={form.sourcetype ?? ""} onChange={set("sourcetype")} />
            </label>
            <p className="muted">Only https is accepted (http only to this machine): the token never crosses the network in clear text.</p>
          </>
        )}
        {form.kind !== "splunk" && (
          <>
            <label>
              Region <input placeholder="from the credential chain" value={form.region ?? ""} onChange={set("region")} />
            </label>
            <label>
              Profile <input placeholder="default" value={form.profile ?? ""} onChange={set("profile")} />
            </label>
            <label>
              Endpoint URL <input placeholder="AWS" value={form.endpoint_url ?? ""} onChange={set("endpoint_url")} />
            </label>
          </>
        )}
        <button className="primary" type="submit">
          Add source
        </button>
      </form>
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
                  api.removeSource(name).then(refreshStatus, (e: Error) => setError(e.message));
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
