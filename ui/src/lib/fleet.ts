// The triage list's filter and the labels and picks the fleet and thing screens share.
import type { CaseState, Category, FleetRow } from "../bindings";

export interface FleetFilter {
  query: string;
  category: Category | "";
  onlyViolations: boolean;
  onlyQuarantined: boolean;
  /** Only things whose investigation is in this state. */
  caseState: CaseState | "";
}

export const NO_FILTER: FleetFilter = { query: "", category: "", onlyViolations: false, onlyQuarantined: false, caseState: "" };

/** Filters the triage rows; the query matches thing names and reasons, case-insensitively. */
export function filterFleet(rows: FleetRow[], f: FleetFilter): FleetRow[] {
  const q = f.query.trim().toLowerCase();
  return rows.filter(
    (r) =>
      (!q || r.thing.toLowerCase().includes(q) || r.reasons.some((x) => x.text.toLowerCase().includes(q))) &&
      (!f.category || r.categories.includes(f.category)) &&
      (!f.onlyViolations || r.open_violations > 0) &&
      (!f.onlyQuarantined || r.quarantined) &&
      (!f.caseState || r.case_state === f.caseState),
  );
}

export const CATEGORY_LABELS: Record<Category, string> = {
  "ddos-participation": "DDoS",
  "backdoor-recon": "backdoor / recon",
  "exfiltration-c2": "exfiltration / C2",
  "brute-force": "brute force",
  "malware-cryptominer": "malware / miner",
  "connection-abuse-jamming": "connection abuse / jamming",
};

/** The violation a mitigation acts on unless the analyst picks another: the newest one still in
 *  alarm, else the newest. */
export function defaultViolation(vs: { violation_id: string; started: number | null; ended: number | null }[]): string | null {
  const newest = (xs: typeof vs) =>
    xs.reduce<(typeof vs)[number] | null>((a, v) => (!a || (v.started ?? -Infinity) > (a.started ?? -Infinity) ? v : a), null);
  return (newest(vs.filter((v) => v.ended === null)) ?? newest(vs))?.violation_id ?? null;
}
