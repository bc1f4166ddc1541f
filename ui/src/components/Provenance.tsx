import type { Status } from "../bindings";
import { ago, formatTime, type Prefs } from "../lib";

/** Where a panel's data came from and how fresh it is. */
export function Provenance({ status, tz, what }: { status: Status | null; tz: Prefs["tz"]; what?: string }) {
  if (!status) return null;
  const origin =
    status.mode === "demo"
      ? "DEMO fleet (simulated data, no source configured)"
      : status.sources.length
        ? `cache of ${status.sources.map((s) => `${s.name} (${s.kind})`).join(", ")}`
        : "local cache";
  return (
    <p className="provenance" data-testid="provenance">
      {what ? `${what}: ` : ""}
      {origin} · newest report {formatTime(status.newest, tz)} ({ago(status.newest, Date.now())})
      {status.mode !== "demo" && ` · last sync ${status.last_sync ? ago(status.last_sync, Date.now()) : "never"}`}
    </p>
  );
}
