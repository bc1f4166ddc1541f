import { useState } from "react";
import type { Prefs, Range } from "../lib";

function toInput(ms: number, tz: Prefs["tz"]): string {
  const d = new Date(tz === "UTC" ? ms : ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function fromInput(s: string, tz: Prefs["tz"]): number | null {
  if (!s) return null;
  const ms = tz === "UTC" ? Date.parse(`${s}:00Z`) : new Date(s).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** Quick ranges (ending at the newest data) or a custom window, in the chosen zone. */
export function RangePicker(props: {
  value: Range;
  ranges: { id: string; label: string }[];
  onChange: (r: Range) => void;
  tz: Prefs["tz"];
}) {
  const { value, onChange, tz } = props;
  const [custom, setCustom] = useState(false);
  const now = Date.now();
  const [from, setFrom] = useState(toInput(value.kind === "custom" ? value.from : now - 86_400_000, tz));
  const [to, setTo] = useState(toInput(value.kind === "custom" ? value.to : now, tz));
  return (
    <span className="range" data-testid="range">
      {props.ranges.map((r) => (
        <button
          type="button"
          key={r.id}
          className={value.kind === "quick" && value.id === r.id ? "active" : ""}
          onClick={() => {
            setCustom(false);
            onChange({ kind: "quick", id: r.id });
          }}
        >
          {r.label}
        </button>
      ))}
      <button type="button" className={value.kind === "custom" ? "active" : ""} onClick={() => setCustom(!custom)}>
        Custom
      </button>
      {custom && (
        <span className="custom-range">
          <input type="datetime-local" aria-label="From" value={from} onChange={(e) => setFrom(e.target.value)} />
          <input type="datetime-local" aria-label="To" value={to} onChange={(e) => setTo(e.target.value)} />
          <button
            type="button"
            onClick={() => {
              const a = fromInput(from, tz);
              const b = fromInput(to, tz);
              if (a !== null && b !== null && a < b) {
                onChange({ kind: "custom", from: a, to: b });
                setCustom(false);
              }
            }}
          >
            Apply
          </button>
        </span>
      )}
    </span>
  );
}
