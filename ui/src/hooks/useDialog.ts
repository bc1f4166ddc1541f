// A screen's modal dialog, closed by Esc before Esc leaves the screen.
import { useState, type MutableRefObject } from "react";
import { type KeyRegistry, useKeys } from "./useKeys";

/** The open dialog (null when none) and its setter; Esc (the screen's `back` key) closes it. */
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
