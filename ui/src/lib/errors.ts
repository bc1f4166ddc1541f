// What a screen shows for a failed engine call: decided by the error's kind (a union generated
// from Rust), never by its message.
import type { ErrorKind } from "../bindings";

/** A failure as a screen shows it. */
export interface ErrorView {
  /** What happened, in a few words. */
  title: string;
  /** The engine's message (safe to show) and what to do. */
  detail: string;
  /** Whether asking again can help (a source or the cache may come back; a bad name will not). */
  retry: boolean;
}

/** Anything thrown by `api` (an `AppError` with a kind), or anything else. */
export function errorView(e: unknown): ErrorView {
  const message = e instanceof Error ? e.message : String(e);
  const kind = (typeof e === "object" && e !== null && "kind" in e ? (e as { kind: ErrorKind | "ipc" }).kind : "internal") as
    | ErrorKind
    | "ipc";
  switch (kind) {
    case "not_found":
      return { title: "Not in this cache", detail: `${message}. Sync a source that carries it, or check the name.`, retry: false };
    case "invalid_input":
      return { title: "Not a valid request", detail: message, retry: false };
    case "source":
      return { title: "Source unavailable", detail: `${message}. What is cached stays readable.`, retry: true };
    case "cancelled":
      return { title: "Cancelled", detail: message, retry: true };
    case "cache_version":
      return { title: "Cache from a newer version", detail: message, retry: false };
    default:
      return { title: "Something went wrong", detail: message, retry: true };
  }
}
