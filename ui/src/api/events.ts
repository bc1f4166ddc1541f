// What the engine tells the UI unasked: sync progress, deep links, the watcher, actions.
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { LinkTarget, OutcomeView, SyncEvent, WatchTick } from "../bindings";

export function onSyncEvent(f: (e: SyncEvent) => void): Promise<UnlistenFn> {
  return listen<SyncEvent>("sync-progress", (ev) => f(ev.payload));
}

/** A deep link opened while the app runs: where to navigate (nothing else is ever done). */
export function onNavigate(f: (t: LinkTarget) => void): Promise<UnlistenFn> {
  return listen<LinkTarget>("navigate", (ev) => f(ev.payload));
}

/** After each scheduled sync: what was synced and what changed. */
export function onWatch(f: (t: WatchTick) => void): Promise<UnlistenFn> {
  return listen<WatchTick>("watch", (ev) => f(ev.payload));
}

/** The text of each desktop notification the app showed (one per sync at most). */
export function onNotified(f: (text: string) => void): Promise<UnlistenFn> {
  return listen<string>("notified", (ev) => f(ev.payload));
}

export function onActionResult(f: (o: OutcomeView) => void): Promise<UnlistenFn> {
  return listen<OutcomeView>("action-result", (ev) => f(ev.payload));
}
