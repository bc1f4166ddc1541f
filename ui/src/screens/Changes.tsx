import { useEffect, useState } from "react";
import type { Common } from "../App";
import { api, onWatch } from "../api";
import type { NotifyFilter, WatchChange as Change } from "../bindings";
import { formatTime, toHash } from "../state";

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
export function Changes({ prefs, go, refreshStatus }: Common) {
  const [changes, setChanges] = useState<Change[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState<NotifyFilter | null>(null);
  useEffect(() => {
    api.notifyFilter().then(setFilter, () => setFilter(null));
  }, []);
  const save = (f: NotifyFilter) =>
    api.setNotifyFilter(f).then(
      (saved) => {
        setFilter(saved);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  const severity = (s: string, on: boolean) =>
    filter && save({ ...filter, severities: on ? [...filter.severities, s] : filter.severities.filter((x) => x !== s) });

  useEffect(() => {
    const load = () =>
      api.changes().then(
        (c) => {
          setChanges(c);
          api.markChangesSeen().then(refreshStatus, () => {});
        },
        (e: Error) => setError(e.message),
      );
    load();
    const un = onWatch((t) => {
      if (t.changes.length > 0) load();
    });
    return () => {
      un.then((f) => f());
    };
  }, [refreshStatus]);

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
          {["CRITICAL", "HIGH", "MEDIUM", "LOW"].map((s) => (
            <label key={s}>
              <input type="checkbox" checked={filter.severities.includes(s)} onChange={(e) => severity(s, e.target.checked)} /> {s} findings
            </label>
          ))}
          <label>
            <input type="checkbox" checked={filter.alarms} onChange={(e) => save({ ...filter, alarms: e.target.checked })} /> new alarms
          </label>
          <label>
            <input type="checkbox" checked={filter.colleagues} onChange={(e) => save({ ...filter, colleagues: e.target.checked })} /> colleagues' actions
          </label>
        </fieldset>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
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
                href={toHash({ screen: "thing", thing: c.thing })}
                data-testid="change-thing"
                onClick={(e) => {
                  e.preventDefault();
                  go({ screen: "thing", thing: c.thing! });
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
