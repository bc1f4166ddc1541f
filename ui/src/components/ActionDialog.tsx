import { useEffect, useState } from "react";
import { api, useWrite } from "../api";
import type { ActionRequest, OutcomeKind, OutcomeState, OutcomeView, PlanView } from "../bindings";

const LABELS: Record<OutcomeKind, string> = {
  succeeded: "Done",
  failed: "Failed",
  unknown: "Still running — not known yet",
  pending: "Pending",
};

/** What an outcome is called on screen, from its typed state (never from its sentence). */
export function outcomeLabel(state: OutcomeState): string {
  const label = LABELS[state.kind];
  return state.reconciled ? `${label} (reconciled)` : label;
}

/** Plan preview (the exact calls), pre-flight warnings, a required reason, then the result. */
export function ActionDialog(props: { request: ActionRequest; title: string; onClose: (done: OutcomeView | null) => void }) {
  const [request, setRequest] = useState(props.request);
  const [plan, setPlan] = useState<PlanView | null>(null);
  const [reason, setReason] = useState("");
  const [planError, setError] = useState<string | null>(null);
  const execute = useWrite<OutcomeView>();
  const busy = execute.isPending;
  const outcome = execute.data ?? null;
  const error = planError ?? execute.error?.message ?? null;

  useEffect(() => {
    let live = true;
    setPlan(null);
    setError(null);
    api.planAction(request).then(
      (p) => live && setPlan(p),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [request]);

  const needsGroup = !!plan?.needs_group;
  const min = plan?.min_reason ?? 10;
  const ok = !!plan && plan.calls.length > 0 && !needsGroup && reason.trim().length >= min && !busy && !outcome;

  const run = () => {
    if (!plan) return;
    execute.mutate(() => api.executeAction(plan.id, reason), {
      // A plan is used once: plan again so the analyst can retry.
      onError: () => setRequest({ ...request }),
    });
  };

  return (
    <div className="modal-backdrop">
      <div className="modal action-dialog" role="dialog" aria-label={props.title} data-testid="action-dialog">
        <h2>
          {props.title}
          {plan?.demo && <span className="demo-badge">DEMO account</span>}
        </h2>
        {!plan && !error && <p>Planning…</p>}
        {plan && (
          <>
            {plan.target && (
              <p className="target" data-testid="plan-target">
                Runs against account <strong>{plan.target.account}</strong> in <strong>{plan.target.region}</strong>{" "}
                <span className="muted">
                  (source {plan.target.source}, as {plan.target.caller})
                </span>
              </p>
            )}
            <h3>The calls, in order</h3>
            {plan.calls.length === 0 ? (
              <p>Nothing to do.</p>
            ) : (
              <ol className="calls" data-testid="plan-calls">
                {plan.calls.map((c, i) => (
                  <li key={i}>
                    <code>{c}</code>
                  </li>
                ))}
              </ol>
            )}
            {plan.warnings.length > 0 && (
              <ul className="warnings" data-testid="plan-warnings">
                {plan.warnings.map((w, i) => (
                  <li key={i}>⚠ {w}</li>
                ))}
              </ul>
            )}
            {request.action === "quarantine" && (needsGroup || request.create_group) && (
              <label>
                <input
                  type="checkbox"
                  data-testid="create-group"
                  checked={request.create_group}
                  onChange={(e) => setRequest({ ...request, create_group: e.target.checked })}
                />
                Create the quarantine group with the deny-all policy shown
              </label>
            )}
            {request.action === "quarantine" && !plan.demo && (
              <label>
                <input
                  type="checkbox"
                  checked={request.deactivate_certificate}
                  onChange={(e) => setRequest({ ...request, deactivate_certificate: e.target.checked })}
                />
                Also deactivate its certificates (release reactivates them)
              </label>
            )}
            {!outcome && (
              <label className="reason">
                Reason (required, at least {min} characters; recorded in the action log)
                <textarea
                  data-testid="reason"
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                  rows={3}
                  // biome-ignore lint/a11y/noAutofocus: the reason is the one thing to type in this modal confirmation
                  autoFocus
                />
              </label>
            )}
          </>
        )}
        {error && (
          <p className="error" role="alert" data-testid="action-error">
            {error}
          </p>
        )}
        {outcome && (
          <div className={`outcome ${outcome.state.kind}`} data-testid="action-outcome" data-state={outcome.state.kind}>
            <strong>{outcomeLabel(outcome.state)}</strong>: {outcome.action} {outcome.thing ?? ""} (log entry #{outcome.intent})
            <ul>
              {outcome.steps.map((s, i) => (
                <li key={i}>
                  <code>{s}</code>
                </li>
              ))}
            </ul>
          </div>
        )}
        <div className="buttons">
          {!outcome && (
            <button type="button" className="danger" data-testid="confirm-action" disabled={!ok} onClick={run}>
              {busy ? "Working…" : `Confirm ${props.request.action.replace("_", " ")}`}
            </button>
          )}
          <button type="button" data-testid="close-dialog" onClick={() => props.onClose(outcome)}>
            {outcome ? "Close" : "Cancel"}
          </button>
        </div>
      </div>
    </div>
  );
}
