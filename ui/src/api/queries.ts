// The query cache (TanStack Query): one key per engine question, how long each answer is
// fresh, and the one client the app shares. An answer that failed is never kept; a change made
// through the app (an action, a case, a source, a sync) marks every answer stale
// (`queryClient.invalidateQueries()`), and the screens on show ask again.
import { QueryClient, queryOptions, useMutation } from "@tanstack/react-query";
import type { Look, MitigationFor, ThingRequest } from "../bindings";
import { api } from "./commands";

export const queryClient = new QueryClient({
  defaultOptions: {
    // The engine is local: a failure is an answer (shown), not a network blip to retry.
    queries: { retry: false, refetchOnWindowFocus: false, refetchOnReconnect: false },
  },
});

export const queries = {
  status: () => queryOptions({ queryKey: ["status"], queryFn: api.status }),
  watch: () => queryOptions({ queryKey: ["watch"], queryFn: api.watch }),
  changes: () => queryOptions({ queryKey: ["changes"], queryFn: api.changes }),
  notifyFilter: () => queryOptions({ queryKey: ["notify-filter"], queryFn: api.notifyFilter }),
  fleet: (windowMs: number) => queryOptions({ queryKey: ["fleet", windowMs], queryFn: () => api.fleet(windowMs) }),
  /** A thing's page: asked for on the click that opens it (while the old screen unmounts) and
   *  taken by the thing's screen, fresh for a few seconds. */
  thing: (req: ThingRequest) => queryOptions({ queryKey: ["thing", req], queryFn: () => api.thing(req), staleTime: 5_000 }),
  audit: (from: number, to: number, look: Look) =>
    queryOptions({ queryKey: ["audit", from, to, look], queryFn: () => api.audit(from, to, look) }),
  actions: () => queryOptions({ queryKey: ["actions"], queryFn: api.actions }),
  sources: () => queryOptions({ queryKey: ["sources"], queryFn: api.sources }),
  /** The cache's size, span and *keep raw points* setting (stats read every chunk: kept a
   *  minute; a write through the app marks it stale like every answer). */
  history: () => queryOptions({ queryKey: ["history"], queryFn: api.history, staleTime: 60_000 }),
  /** The Athena screens that named a thing, with what reading its history would cost (one S3
   *  listing each: kept a minute). */
  drillOffers: (thing: string) =>
    queryOptions({ queryKey: ["drill-offers", thing], queryFn: () => api.drillOffers(thing), staleTime: 60_000 }),
  /** The account's mitigation actions, asked of AWS at most once a minute (every thing's screen
   *  offers them; they change when someone edits the account, not per thing). */
  mitigationActions: (target: MitigationFor) =>
    queryOptions({ queryKey: ["mitigation-actions", target], queryFn: () => api.mitigationActions(target), staleTime: 60_000 }),
};

/** A write to the engine (a case, an action, a source, a filter): one mutation, whose pending
 *  state and error the screen shows; once it has succeeded every answer is marked stale, so the
 *  screens on show ask again. The write itself is passed to `mutate` as a thunk, so one hook
 *  serves the writes of a panel. */
export function useWrite<T>() {
  return useMutation(writeOptions<T>());
}

/** What every write's mutation does (the hook's options, shared with the tests). */
export function writeOptions<T>() {
  return {
    mutationFn: (write: () => Promise<T>) => write(),
    onSuccess: () => void queryClient.invalidateQueries(),
  };
}
