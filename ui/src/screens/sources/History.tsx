import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, queries, useWrite } from "../../api";
import type { Prefs } from "../../lib";
import { formatBytes, formatTime } from "../../lib";

/** The choices of the *keep raw points* setting, in days (null: keep every point). */
export const KEEP_RAW_CHOICES: Array<number | null> = [null, 30, 90, 180, 365];

/** The cache's history: its size and span, and how long raw points are kept. */
export function History({ tz }: { tz: Prefs["tz"] }) {
  const history = useQuery(queries.history());
  const write = useWrite<unknown>();
  const [error, setError] = useState<string | null>(null);
  const h = history.data;
  return (
    <section className="history" data-testid="history">
      <h2>History in the cache</h2>
      {(error ?? history.error) && (
        <p className="error" role="alert">
          {error ?? history.error?.message}
        </p>
      )}
      {h && (
        <p className="muted" data-testid="history-stats">
          {formatBytes(h.file_bytes)} · {h.points.toLocaleString()} points
          {h.compacted_points > 0 && ` + ${h.compacted_points.toLocaleString()} in hourly aggregates`} · {h.bytes_per_point.toFixed(2)}{" "}
          B/point · oldest {formatTime(h.oldest, tz)}
          {h.upgrade_pending && " · upgrading older chunks in the background"}
        </p>
      )}
      <label>
        Keep raw points{" "}
        <select
          data-testid="keep-raw"
          value={h?.keep_raw_days ?? ""}
          disabled={!h || write.isPending}
          onChange={(e) => {
            setError(null);
            const days = e.target.value === "" ? null : Number(e.target.value);
            write.mutate(() => api.setKeepRaw(days), { onError: (err) => setError(err.message) });
          }}
        >
          {KEEP_RAW_CHOICES.map((d) => (
            <option key={d ?? "all"} value={d ?? ""}>
              {d === null ? "forever (never compact)" : `${d} days, then hourly aggregates`}
            </option>
          ))}
        </select>
      </label>
      <p className="muted">
        Older days keep each hour's count, sum, minimum and maximum exactly, and the sets seen; charts show those hours' means and triage
        reads them as before.
      </p>
    </section>
  );
}
