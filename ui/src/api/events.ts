// Generated from desk_engine::app::commands (with_commands!); do not edit.
// Regenerate: UPDATE_BINDINGS=1 cargo test -p desk-engine --test it bindings
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { LinkTarget, OutcomeView, SyncEvent, WatchTick } from "../bindings";

/** Each step of a running sync. */
export function onSyncProgress(f: (payload: SyncEvent) => void): Promise<UnlistenFn> {
  return listen<SyncEvent>("sync-progress", (ev) => f(ev.payload));
}

/** A deep link opened while the app runs: where to navigate (nothing else is ever done). */
export function onNavigate(f: (payload: LinkTarget) => void): Promise<UnlistenFn> {
  return listen<LinkTarget>("navigate", (ev) => f(ev.payload));
}

/** After each scheduled sync: what was synced and what changed. */
export function onWatch(f: (payload: WatchTick) => void): Promise<UnlistenFn> {
  return listen<WatchTick>("watch", (ev) => f(ev.payload));
}

/** The text of each desktop notification the app showed (one per sync at most). */
export function onNotified(f: (payload: string) => void): Promise<UnlistenFn> {
  return listen<string>("notified", (ev) => f(ev.payload));
}

/** The outcome of each executed action. */
export function onActionResult(f: (payload: OutcomeView) => void): Promise<UnlistenFn> {
  return listen<OutcomeView>("action-result", (ev) => f(ev.payload));
}
