// The account's mitigation actions, from the query cache (asked of AWS at most once a minute).
import { useQuery } from "@tanstack/react-query";
import { queries } from "../api";
import type { MitigationFor } from "../bindings";

/** The account's mitigation actions usable on `target`, asked for once `ready` (the thing
 *  screen waits for its charts to be on screen); an empty list when they cannot be read. */
export function useMitigationActions(target: MitigationFor, ready = true): string[] {
  const { data } = useQuery({ ...queries.mitigationActions(target), enabled: ready });
  return data ?? [];
}
