import type { ViolationView } from "../../bindings";
import { formatTime, type Prefs } from "../../lib";

/** The thing's Detect violations: which one Run mitigation acts on, ML confidence, and the
 *  verification state, which the analyst can set in AWS (through the action dialog). */
export function ViolationsTable({
  violations,
  target,
  tz,
  onTarget,
  onVerify,
}: {
  violations: ViolationView[];
  target: string | null;
  tz: Prefs["tz"];
  onTarget: (violation: string) => void;
  onVerify: (v: ViolationView, state: string) => void;
}) {
  return (
    <>
      <h2>Violations</h2>
      <table className="compact" data-testid="violations">
        <thead>
          <tr>
            <th title="The violation Run mitigation acts on">Act on</th>
            <th>Behavior</th>
            <th>Security profile</th>
            <th>Started</th>
            <th>Ended</th>
            <th title="ML Detect's confidence level">Confidence</th>
            <th title="The analyst's verification state and note">Verification</th>
          </tr>
        </thead>
        <tbody>
          {violations.map((v) => (
            <tr key={v.violation_id}>
              <td>
                <input
                  type="radio"
                  name="mitigation-target"
                  data-testid="violation-target"
                  aria-label={`Act on the violation of ${v.behavior}`}
                  checked={target === v.violation_id}
                  onChange={() => onTarget(v.violation_id)}
                />
              </td>
              <td>{v.behavior}</td>
              <td>{v.security_profile}</td>
              <td>{formatTime(v.started, tz)}</td>
              <td>{v.ended ? formatTime(v.ended, tz) : "in alarm"}</td>
              <td data-testid="violation-confidence">{v.confidence ?? "—"}</td>
              <td title={v.verification_description ?? undefined}>
                {v.verification_state ?? "—"}
                {v.verification_description && <span className="muted"> — {v.verification_description}</span>}{" "}
                <select
                  aria-label="Set the verification state in AWS"
                  data-testid="verify-violation"
                  value=""
                  onChange={(e) => e.target.value && onVerify(v, e.target.value)}
                >
                  <option value="">set in AWS…</option>
                  <option value="FALSE_POSITIVE">false positive</option>
                  <option value="BENIGN_POSITIVE">benign positive</option>
                  <option value="TRUE_POSITIVE">true positive</option>
                  <option value="UNKNOWN">unknown</option>
                </select>
              </td>
            </tr>
          ))}
          {violations.length === 0 && (
            <tr>
              <td colSpan={7} className="muted">
                None recorded.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}
