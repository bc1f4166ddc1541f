import type { Status } from "../bindings";
import { QUICK_RANGES, type Prefs, type Route } from "../state";
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
  const tab = (screen: Route["screen"], label: string) => (
    <button
      className={"tab" + (route.screen === screen ? " active" : "")}
      data-testid={`nav-${screen}`}
      onClick={() => go({ screen } as Route)}
    >
      {label}
    </button>
  );
  return (
    <header className="header">
      <div className="brand">
        <span className="logo" aria-hidden="true">◆</span> Defender Desk
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
      </nav>
      <div className="controls">
        {status?.mode === "demo" && (
          <button className="primary" data-testid="add-source" onClick={() => go({ screen: "sources" })}>
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
          aria-label="Toggle theme"
          data-testid="theme"
          onClick={() => setPrefs({ ...prefs, theme: prefs.theme === "dark" ? "light" : "dark" })}
        >
          {prefs.theme === "dark" ? "Light" : "Dark"}
        </button>
        <button aria-label="Keyboard shortcuts" onClick={props.onHelp}>
          ?
        </button>
      </div>
    </header>
  );
}
