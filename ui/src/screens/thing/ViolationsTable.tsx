import { VERIFICATION_STATES, type VerificationState, type ViolationView } from "../../bindings";
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
  onVerify: (v: ViolationView, state: VerificationState) => void;
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
                  onChange={(e) => {
                    const state = VERIFICATION_STATES.find((s) => s === e.target.value);
                    if (state) onVerify(v, state);
                  }}
                >
                  <option value="">set in AWS…</option>
                  {VERIFICATION_STATES.map((s) => (
                    <option key={s} value={s}>
                      {s.toLowerCase().replace("_", " ")}
                    </option>
                  ))}
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
