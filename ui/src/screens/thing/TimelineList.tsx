import type { TimelineRow } from "../../bindings";
import { formatTime, type Prefs } from "../../lib";

/** The thing's violations, findings, mitigations, actions and case notes, in time order. */
export function TimelineList({ timeline, tz }: { timeline: TimelineRow[]; tz: Prefs["tz"] }) {
  return (
    <>
      <h2>Timeline</h2>
      <ul className="timeline" data-testid="timeline">
        {timeline.map((e, i) => (
          <li key={i} className={`tl-${e.kind}`}>
            <span className="when">{formatTime(e.t, tz)}</span> <span className="kind">{e.kind}</span> {e.what}
          </li>
        ))}
        {timeline.length === 0 && <li className="muted">Nothing recorded.</li>}
      </ul>
    </>
  );
}
