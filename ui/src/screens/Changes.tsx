import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { Common } from "../App";
import { api, queries, queryClient } from "../api";
import { type NotifyFilter, SEVERITIES, type Severity, type WatchChange as Change } from "../bindings";
import { formatTime, toHash } from "../lib";

const KIND_LABELS: Record<Change["kind"], string> = {
  alarm_started: "in alarm",
  alarm_cleared: "alarm cleared",
  finding: "audit finding",
  score_up: "score up",
  score_down: "score down",
  colleague_action: "colleague",
};

/** What the scheduled syncs found since the app started, newest first; each item links to its
 *  thing. Opening the list marks the changes seen (the header's badge goes to zero). */
export function Changes({ prefs, go }: Common) {
  const [error, setError] = useState<string | null>(null);
  // Asked again after each scheduled sync that changed something (hooks/useWatch.ts).
  const listed = useQuery(queries.changes());
  const changes = listed.data ?? null;
  const filter = useQuery(queries.notifyFilter()).data ?? null;
  const save = (f: NotifyFilter) =>
    api.setNotifyFilter(f).then(
      (saved) => {
        queryClient.setQueryData(queries.notifyFilter().queryKey, saved);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  const severity = (s: Severity, on: boolean) =>
    filter && save({ ...filter, severities: on ? [...filter.severities, s] : filter.severities.filter((x) => x !== s) });

  // Shown is seen: each new list marks the changes seen, and the header's count is asked again
  // (only the status and the watcher: the list itself stays as it is).
  useEffect(() => {
    if (!changes) return;
    api.markChangesSeen().then(
      () => {
        void queryClient.invalidateQueries({ queryKey: queries.status().queryKey });
        void queryClient.invalidateQueries({ queryKey: queries.watch().queryKey });
      },
      () => {},
    );
  }, [changes]);

  return (
    <section className="screen" data-testid="changes-screen">
      <h1>What changed</h1>
      {filter && (
        <fieldset className="notify-filter" data-testid="notify-filter">
          <legend>Desktop notifications (one per sync at most)</legend>
          <label>
            score ≥{" "}
            <input
              type="number"
              min={0}
              max={100}
              data-testid="notify-score"
              defaultValue={filter.min_score}
              onBlur={(e) => save({ ...filter, min_score: Number(e.target.value) })}
            />
          </label>
          {SEVERITIES.map((s) => (
            <label key={s}>
              <input type="checkbox" checked={filter.severities.includes(s)} onChange={(e) => severity(s, e.target.checked)} /> {s} findings
            </label>
          ))}
          <label>
            <input type="checkbox" checked={filter.alarms} onChange={(e) => save({ ...filter, alarms: e.target.checked })} /> new alarms
          </label>
          <label>
            <input type="checkbox" checked={filter.colleagues} onChange={(e) => save({ ...filter, colleagues: e.target.checked })} />{" "}
            colleagues' actions
          </label>
        </fieldset>
      )}
      {(error ?? listed.error) && (
        <p className="error" role="alert">
          {error ?? listed.error?.message}
        </p>
      )}
      {changes !== null && changes.length === 0 && (
        <p className="muted">Nothing yet: every configured source syncs on its schedule while the app runs; what changes is listed here.</p>
      )}
      <ul className="changes" data-testid="changes">
        {(changes ?? []).map((c) => (
          <li key={`${c.at}-${c.kind}-${c.id ?? c.thing ?? c.what}`} className={`change change-${c.kind}`} data-testid="change">
            <span className="when">{formatTime(c.at, prefs.tz)}</span> <span className="kind">{KIND_LABELS[c.kind]}</span>{" "}
            {c.severity && <span className="severity">{c.severity}</span>}{" "}
            {c.thing ? (
              <a
                href={toHash({ screen: "thing", thing: c.key ?? c.thing })}
                data-testid="change-thing"
                onClick={(e) => {
                  e.preventDefault();
                  go({ screen: "thing", thing: c.key ?? c.thing! });
                }}
              >
                {c.what}
              </a>
            ) : (
              c.what
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
