// The one door to the engine: every call is one Tauri command (src-tauri/src/main.rs); an
// engine error arrives as a typed `DeskError` (its kind a union generated from Rust).
import { invoke } from "@tauri-apps/api/core";
import type { DeskError, ErrorKind } from "../bindings";

/** An engine error as the UI shows it: the kind to branch on, a message safe to display. */
export class AppError extends Error {
  kind: ErrorKind | "ipc";
  constructor(e: DeskError) {
    super(e.message);
    this.kind = e.kind;
  }
}

function isDeskError(e: unknown): e is DeskError {
  return typeof e === "object" && e !== null && "kind" in e && "message" in e;
}

export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    if (isDeskError(e)) throw new AppError(e);
    const err = new AppError({ kind: "internal", message: String(e) });
    err.kind = "ipc";
    throw err;
  }
}
