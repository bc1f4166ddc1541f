import type { DiffView, DriftRow } from "../../bindings";
import { formatTime, type Prefs } from "../../lib";

/** Which ports and destinations changed between the window's start and end (attack surface
 *  flagged), and when each member was listed. */
export function DriftPanel({ diff, drift, tz }: { diff: DiffView[]; drift: DriftRow[]; tz: Prefs["tz"] }) {
  const changed = diff.filter((d) => d.change !== "unchanged");
  return (
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
          {drift.slice(0, 200).map((d, i) => (
            <tr key={i} className={d.attack_surface && !d.expected ? "attack" : ""}>
              <td>{d.metric}</td>
              <td>
                {d.value}
                {d.expected ? "" : " (not expected)"}
              </td>
              <td>{formatTime(d.opened, tz)}</td>
              <td>{d.closed ? formatTime(d.closed, tz) : "open"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
