// Small hooks the screens share.
import { useEffect, useLayoutEffect, useRef, useState, type MutableRefObject } from "react";
import { api } from "./api";
import type { MitigationFor } from "./bindings";
import type { KeyRegistry, Keys } from "./App";

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

/** Registers key handlers while the calling component is mounted: added in an effect, removed
 *  when it unmounts. The newest handlers win, read at key-press time (never assigned during
 *  render). */
export function useKeys(keys: MutableRefObject<KeyRegistry>, handlers: Keys): void {
  const latest = useRef(handlers);
  useLayoutEffect(() => {
    latest.current = handlers;
  });
  useEffect(() => {
    const list = keys.current;
    list.unshift(latest);
    return () => {
      const i = list.indexOf(latest);
      if (i >= 0) list.splice(i, 1);
    };
  }, [keys]);
}

/** A screen's modal dialog, closed by Esc (the screen's `back` key) before Esc leaves it. */
export function useDialog<T>(keys: MutableRefObject<KeyRegistry>): [T | null, (d: T | null) => void] {
  const [dialog, setDialog] = useState<T | null>(null);
  useKeys(keys, {
    back: () => {
      if (dialog) {
        setDialog(null);
        return true;
      }
      return false;
    },
  });
  return [dialog, setDialog];
}
