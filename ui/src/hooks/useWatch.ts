// The watcher's state (each source's last and next sync, the unseen changes), one query for
// every screen that shows it, and the engine's events that make cached answers stale.
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { onActionResult, onWatch, queries, queryClient } from "../api";
import type { WatchView } from "../bindings";

/** Each source's watch state, read at start, after each scheduled sync and every 30 s (the
 *  times move on); null when it cannot be read. */
export function useWatch(): WatchView | null {
  const { data } = useQuery({ ...queries.watch(), refetchInterval: 30_000 });
  return data ?? null;
}

/** Subscribes, once for the app, to what the engine reports unasked: a scheduled sync makes
 *  everything it may have changed stale (screens on show ask again); an action's result does
 *  the same for the log and the thing's page. */
export function useEngineEvents(): void {
  useEffect(() => {
    const watch = onWatch((t) => {
      void queryClient.invalidateQueries({ queryKey: queries.watch().queryKey });
      if (t.changes.length > 0 || t.synced.length > 0) void queryClient.invalidateQueries();
    });
    const action = onActionResult(() => void queryClient.invalidateQueries());
    return () => {
      watch.then((f) => f());
      action.then((f) => f());
    };
  }, []);
}
