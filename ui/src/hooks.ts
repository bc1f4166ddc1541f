// Small hooks the screens share.
import { useEffect, useState, type MutableRefObject } from "react";
import { api } from "./api";
import type { MitigationFor } from "./bindings";
import type { Keys } from "./App";

/** The account's mitigation actions usable on `target`, asked for once `ready` (the thing
 *  screen waits for its charts to be on screen); an empty list when they cannot be read. */
export function useMitigationActions(target: MitigationFor, ready = true): string[] {
  const [list, setList] = useState<string[]>([]);
  useEffect(() => {
    if (!ready) return;
    let live = true;
    api.mitigationActions(target).then(
      (m) => live && setList(m),
      () => live && setList([]),
    );
    return () => {
      live = false;
    };
  }, [target, ready]);
  return list;
}

/** A screen's modal dialog, closed by Esc (the screen's `back` key) before Esc leaves it. */
export function useDialog<T>(keys: MutableRefObject<Keys>): [T | null, (d: T | null) => void] {
  const [dialog, setDialog] = useState<T | null>(null);
  keys.current = {
    back: () => {
      if (dialog) {
        setDialog(null);
        return true;
      }
      return false;
    },
  };
  return [dialog, setDialog];
}
