import type { Status } from "../bindings";
import { useWatch } from "../hooks";
import { formatTime, QUICK_RANGES, type Prefs, type Route } from "../lib";
import { RangePicker } from "./RangePicker";

export function Header(props: {
  route: Route;
  prefs: Prefs;
  setPrefs: (p: Prefs) => void;
  status: Status | null;
  go: (r: Route) => void;
  onHelp: () => void;
}) {
  const { route, prefs, setPrefs, status, go } = props;
  // The watcher: each source's next sync and the unseen changes (hooks/useWatch.ts).
  const watch = useWatch();
  const active = watch?.sources.filter((s) => !s.paused) ?? [];
  const next = active.map((s) => s.next_sync).filter((t): t is number => t !== null);
  const failing = watch?.sources.filter((s) => s.failures > 0) ?? [];
  const tab = (screen: Route["screen"], label: string) => (
    <button
      type="button"
      className={`tab${route.screen === screen ? " active" : ""}`}
      data-testid={`nav-${screen}`}
      onClick={() => go({ screen } as Route)}
    >
      {label}
    </button>
  );
  return (
    <header className="header">
      <div className="brand">
        <span className="logo" aria-hidden="true">
          ◆
        </span>{" "}
        Defender Desk
        {status?.mode === "demo" && (
          <span className="demo-badge" data-testid="demo-badge" title="Simulated fleet: no source is configured">
            DEMO
          </span>
        )}
      </div>
      <nav>
        {tab("triage", "Fleet triage")}
        {tab("audit", "Audit")}
        {tab("actions", "Actions")}
        {tab("sources", "Sources & sync")}
        <button
          type="button"
          className={`tab${route.screen === "changes" ? " active" : ""}`}
          data-testid="nav-changes"
          onClick={() => go({ screen: "changes" })}
        >
          Changes
          {(watch?.unseen ?? 0) > 0 && (
            <span className="count-badge" data-testid="changes-badge">
              {watch!.unseen}
            </span>
          )}
        </button>
      </nav>
      {watch && watch.sources.length > 0 && (
        <span
          className={`watch-line${failing.length ? " error" : ""}`}
          data-testid="watch-line"
          title={watch.sources
            .map(
              (s) =>
                `${s.source}: ${s.paused ? "paused" : `next ${formatTime(s.next_sync, prefs.tz)}`}, last ${s.last_sync ? formatTime(s.last_sync, prefs.tz) : "not yet"}${s.error ? ` — ${s.failures} failure(s)${s.throttled ? ", throttled" : ""}: ${s.error}` : ""}`,
            )
            .join("\n")}
        >
          {next.length ? `next sync ${formatTime(Math.min(...next), prefs.tz)}` : "watching paused"}
          {failing.length > 0 && ` · ${failing.length} source(s) failing`}
        </span>
      )}
      <div className="controls">
        {status?.mode === "demo" && (
          <button type="button" className="primary" data-testid="add-source" onClick={() => go({ screen: "sources" })}>
            Add source
          </button>
        )}
        <RangePicker value={prefs.range} ranges={QUICK_RANGES} onChange={(range) => setPrefs({ ...prefs, range })} tz={prefs.tz} />
        <select
          aria-label="Time zone"
          data-testid="tz"
          value={prefs.tz}
          onChange={(e) => setPrefs({ ...prefs, tz: e.target.value === "local" ? "local" : "UTC" })}
        >
          <option value="UTC">UTC</option>
          <option value="local">Local time</option>
        </select>
        <button
          type="button"
          aria-label="Toggle theme"
          data-testid="theme"
          onClick={() => setPrefs({ ...prefs, theme: prefs.theme === "dark" ? "light" : "dark" })}
        >
          {prefs.theme === "dark" ? "Light" : "Dark"}
        </button>
        <button type="button" aria-label="Keyboard shortcuts" onClick={props.onHelp}>
          ?
        </button>
      </div>
    </header>
  );
}
