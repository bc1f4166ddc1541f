import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { Common } from "../App";
import { api, queries } from "../api";
import type { Verification } from "../bindings";
import { formatTime, toHash } from "../lib";

/** What verification found, in one line: the chain, then the anchor's copy (when there is one). */
export function verdict(v: Verification): string {
  const chain = v.chain_ok ? `Chain intact (${v.records} records)` : `Chain broken: ${v.problems.join("; ")}`;
  if (!v.anchored) return `${chain}; no anchor (a rewrite of the whole chain would not show)`;
  if (v.anchor_error) return `${chain}; anchor not read: ${v.anchor_error}`;
  const diff = [
    v.missing.length ? `missing from this log: ${v.missing.join(", ")}` : "",
    v.altered.length ? `altered: ${v.altered.join(", ")}` : "",
    v.overwritten.length ? `overwritten in the anchor: ${v.overwritten.join(", ")}` : "",
    v.extra.length ? `not in the anchor: ${v.extra.join(", ")}` : "",
    v.unexpected.length ? `objects beside the log that are no record: ${v.unexpected.join(", ")}` : "",
    v.duplicate.length ? `sequences claimed twice: ${v.duplicate.join(", ")}` : "",
    v.invalid.length ? `planted records (their hash or link does not hold; not this log's fault): ${v.invalid.join(", ")}` : "",
  ].filter(Boolean);
  const late = v.late.length ? `; reached the anchor over a day after they were logged: ${v.late.join(", ")}` : "";
  const id = v.cache ? ` (anchored as cache ${v.cache})` : "";
  return diff.length ? `${chain}; the anchor disagrees${id} — ${diff.join("; ")}${late}` : `${chain}; the anchor agrees${id}${late}`;
}

export function Actions({ prefs, go }: Common) {
  // Asked again after every action (hooks/useWatch.ts `useEngineEvents`).
  const log = useQuery(queries.actions());
  const rows = log.data ?? null;
  const [chain, setChain] = useState<Verification | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  return (
    <section className="screen actions" data-testid="actions">
      <div className="toolbar">
        <h1>Action log</h1>
        <button type="button" data-testid="verify" onClick={() => api.verifyActions().then(setChain, (e: Error) => setError(e.message))}>
          Verify chain
        </button>
        <button
          type="button"
          onClick={() =>
            api.exportActionsCsv().then(
              (s) => setNote(`Saved ${s.path}`),
              (e: Error) => setNote(e.message),
            )
          }
        >
          Export CSV
        </button>
        {chain && (
          <span className={chain.ok ? "ok" : "error"} data-testid="chain">
            {verdict(chain)}
          </span>
        )}
      </div>
      <p className="provenance">Append-only, hash-chained log in the local cache; every entry says who, when, what, why and the outcome.</p>
      {note && <p className="note">{note}</p>}
      {(error ?? log.error) && (
        <p className="error" role="alert">
          {error ?? log.error?.message}
        </p>
      )}
      <table className="compact" data-testid="action-log">
        <thead>
          <tr>
            <th>#</th>
            <th>When</th>
            <th>Who</th>
            <th>Action</th>
            <th>Thing</th>
            <th>Why</th>
            <th>Outcome</th>
          </tr>
        </thead>
        <tbody>
          {(rows ?? []).map((a) => (
            <tr
              key={a.colleague ? `${a.cache}:${a.seq}` : a.seq}
              data-testid="action-row"
              data-action={a.action}
              data-status={a.status}
              data-state={a.state.kind}
              data-colleague={a.colleague ? "true" : undefined}
            >
              <td>{a.colleague ? "—" : a.seq}</td>
              <td>{formatTime(a.at, prefs.tz, true)}</td>
              <td>
                {a.who} <span className="muted">({a.os_user})</span>
                {a.demo && <span className="demo-badge small">DEMO</span>}
                {a.colleague && (
                  <span className="demo-badge small" title={`from a colleague's log (cache ${a.cache ?? "?"}), read back from the anchor`}>
                    colleague · cache {a.cache ?? "?"}
                  </span>
                )}
                {a.colleague && a.verified === false && (
                  <span
                    className="demo-badge small unverified"
                    title="its hash chain does not hold: anyone who can write the anchor could have written it"
                  >
                    UNVERIFIED
                  </span>
                )}
              </td>
              <td title={a.calls.join("\n")}>{a.action}</td>
              <td>
                {a.thing && (
                  <a
                    href={toHash({ screen: "thing", thing: a.thing_key ?? a.thing })}
                    onClick={(e) => {
                      e.preventDefault();
                      go({ screen: "thing", thing: a.thing_key ?? a.thing! });
                    }}
                  >
                    {a.thing}
                  </a>
                )}
              </td>
              <td>{a.reason}</td>
              <td className={`st-${a.state.kind}`}>{a.status}</td>
            </tr>
          ))}
          {rows && rows.length === 0 && (
            <tr>
              <td colSpan={7} className="muted">
                No actions yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
