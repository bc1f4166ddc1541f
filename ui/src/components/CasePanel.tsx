import { useState } from "react";
import { api, useWrite } from "../api";
import type { Case, CaseState } from "../bindings";
import { formatTime, type Prefs } from "../lib";

export const STATES: { value: CaseState; label: string }[] = [
  { value: "new", label: "New" },
  { value: "investigating", label: "Investigating" },
  { value: "benign", label: "Resolved — benign" },
  { value: "compromised", label: "Resolved — compromised" },
];

/** Whose investigation: a thing, or an audit finding (by id). */
export type CaseSubject = { thing: string } | { finding: string };

const setState = (subject: CaseSubject, state: CaseState, owner: string | null) =>
  "thing" in subject ? api.setCase({ thing: subject.thing, state, owner }) : api.setFindingCase({ finding: subject.finding, state, owner });

const addNote = (subject: CaseSubject, text: string) =>
  "thing" in subject ? api.addCaseNote({ thing: subject.thing, text }) : api.addFindingNote({ finding: subject.finding, text });

/** The investigation of one thing or finding: its state and owner, and notes with who wrote
 *  them when. Every change is appended to the cache (the history stays in the timeline and the
 *  report). */
export function CasePanel({
  subject,
  initial,
  tz,
  onChanged,
}: {
  subject: CaseSubject;
  initial: Case;
  tz: Prefs["tz"];
  onChanged: () => void;
}) {
  const [c, setCase] = useState<Case>(initial);
  const [owner, setOwner] = useState(initial.owner ?? "");
  const [text, setText] = useState("");
  const write = useWrite<Case>();
  const busy = write.isPending;
  const error = write.error?.message ?? null;

  // The answer is taken from the write's own promise; what the write sends is read when it is
  // asked for (the controlled inputs show the old values again until the answer).
  const run = (op: () => Promise<Case>, after?: () => void) =>
    write.mutateAsync(op).then(
      (next) => {
        setCase(next);
        after?.();
        onChanged();
      },
      () => {}, // shown from write.error
    );

  return (
    <div className="panel case" data-testid="case-panel">
      <h2>{"thing" in subject ? "Investigation" : `Investigation of finding ${subject.finding}`}</h2>
      <div className="case-controls">
        <label>
          State{" "}
          <select
            data-testid="case-state"
            value={c.state}
            disabled={busy}
            onChange={(e) => {
              // Read now: the write runs later, when the controlled select shows the old state again.
              const state = e.target.value as CaseState;
              const who = owner.trim() || null;
              run(() => setState(subject, state, who));
            }}
          >
            {STATES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Owner{" "}
          <input
            data-testid="case-owner"
            value={owner}
            maxLength={128}
            onChange={(e) => setOwner(e.target.value)}
            onBlur={() => {
              const who = owner.trim();
              const state = c.state;
              if (who && who !== (c.owner ?? "")) run(() => setState(subject, state, who));
            }}
          />
        </label>
        {c.updated !== null && (
          <span className="muted">
            since {formatTime(c.updated, tz)}
            {c.history.length > 0 && ` by ${c.history[c.history.length - 1].who}`}
            {c.history.length > 0 && c.history[c.history.length - 1].origin === "security-hub" && " in Security Hub"}
          </span>
        )}
      </div>
      <ul className="notes" data-testid="case-notes">
        {c.notes.map((n) => (
          <li key={`${n.at}-${n.who}-${n.text.length}`}>
            <span className="when">{formatTime(n.at, tz)}</span> <strong>{n.who}</strong>
            {n.origin === "security-hub" && <span className="muted"> (in Security Hub)</span>}: <span className="note-text">{n.text}</span>
          </li>
        ))}
        {c.notes.length === 0 && <li className="muted">No notes yet.</li>}
      </ul>
      <textarea
        data-testid="case-note-text"
        rows={2}
        maxLength={4000}
        value={text}
        placeholder="Add a note (who and when are recorded)"
        onChange={(e) => setText(e.target.value)}
      />
      <button
        type="button"
        data-testid="case-add-note"
        disabled={busy || !text.trim()}
        onClick={() => {
          const note = text;
          run(
            () => addNote(subject, note),
            () => setText(""),
          );
        }}
      >
        Add note
      </button>
      {error && (
        <p className="error" role="alert" data-testid="case-error">
          {error}
        </p>
      )}
    </div>
  );
}
