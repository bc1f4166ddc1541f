// The keyboard registry: the app routes `/`, `j`, `k`, `Enter` and Esc to the handlers the
// mounted screens and dialogs register, newest first.
import { useEffect, useLayoutEffect, useRef, type MutableRefObject } from "react";

/** Keyboard commands a screen handles. `back` returns whether it used the key. */
export interface Keys {
  search?: () => void;
  down?: () => void;
  up?: () => void;
  open?: () => void;
  back?: () => boolean;
}

/** Handlers registered by the mounted screens and dialogs, newest first. */
export type KeyRegistry = MutableRefObject<Keys>[];

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
