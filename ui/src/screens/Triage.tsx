import { useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { Common } from "../App";
import { queries, queryClient } from "../api";
import type { CaseState, Category } from "../bindings";
import { Provenance } from "../components/Provenance";
import { useKeys } from "../hooks";
import { perf } from "../perf";
import { thingRequest } from "./Thing";
import { ago, CATEGORY_LABELS, filterFleet, NO_FILTER, rangeMs, toHash, type FleetFilter } from "../lib";

const ROW = 56;

export function Triage({ prefs, zone, go, keys, status }: Common) {
  const [filter, setFilter] = useState<FleetFilter>(NO_FILTER);
  const [selected, setSelected] = useState(0);
  const search = useRef<HTMLInputElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const windowMs = rangeMs(prefs.range);

  // At least a day; a screen that mounts again shows the last ranking at once while it is
  // asked again (a sync, an action or a case made it stale).
  const query = useQuery(queries.fleet(Math.max(windowMs, 86_400_000)));
  const fleet = query.data ?? null;
  const error = query.error?.message ?? null;

  const rows = useMemo(() => (fleet ? filterFleet(fleet.rows, filter) : []), [fleet, filter]);
  const virt = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW,
    overscan: 12,
  });

  useEffect(() => {
    if (selected >= rows.length) setSelected(Math.max(0, rows.length - 1));
  }, [rows.length, selected]);

  // The thing's page is asked for on the click, while this screen unmounts.
  const open = (thing: string) => {
    void queryClient.prefetchQuery(queries.thing(thingRequest(thing, {}, prefs, zone)));
    go({ screen: "thing", thing });
  };

  useKeys(keys, {
    search: () => search.current?.focus(),
    down: () => {
      const n = Math.min(selected + 1, rows.length - 1);
      setSelected(n);
      virt.scrollToIndex(n);
    },
    up: () => {
      const n = Math.max(selected - 1, 0);
      setSelected(n);
      virt.scrollToIndex(n);
    },
    open: () => rows[selected] && open(rows[selected].key),
  });

  // Marked before the browser paints the rows, so whoever sees a row can read the mark.
  useLayoutEffect(() => {
    if (fleet) perf.triageShown();
  }, [fleet]);

  const now = Date.now();
  return (
    <section className="screen triage" data-testid="triage">
      <div className="toolbar">
        <h1>Fleet triage</h1>
        <input
          ref={search}
          type="text"
          placeholder="Search things and reasons  ( / )"
          aria-label="Search things"
          data-testid="search"
          value={filter.query}
          onChange={(e) => setFilter({ ...filter, query: e.target.value })}
          onKeyDown={(e) => {
            if (e.key === "Enter" && rows[0]) open(rows[selected]?.key ?? rows[0].key);
          }}
        />
        <select
          aria-label="Attack category"
          value={filter.category}
          onChange={(e) => setFilter({ ...filter, category: e.target.value as Category | "" })}
        >
          <option value="">All categories</option>
          {(Object.keys(CATEGORY_LABELS) as Category[]).map((c) => (
            <option key={c} value={c}>
              {CATEGORY_LABELS[c]}
            </option>
          ))}
        </select>
        <label>
          <input
            type="checkbox"
            checked={filter.onlyViolations}
            onChange={(e) => setFilter({ ...filter, onlyViolations: e.target.checked })}
          />
          open violations
        </label>
        <label>
          <input
            type="checkbox"
            checked={filter.onlyQuarantined}
            onChange={(e) => setFilter({ ...filter, onlyQuarantined: e.target.checked })}
          />
          quarantined
        </label>
        <select
          aria-label="Investigation state"
          data-testid="case-filter"
          value={filter.caseState}
          onChange={(e) => setFilter({ ...filter, caseState: e.target.value as CaseState | "" })}
        >
          <option value="">any investigation state</option>
          <option value="new">new</option>
          <option value="investigating">investigating</option>
          <option value="benign">resolved — benign</option>
          <option value="compromised">resolved — compromised</option>
        </select>
        <span className="count" data-testid="count">
          {fleet ? `${rows.length} of ${fleet.rows.length} things` : "…"}
        </span>
      </div>
      <Provenance status={fleet?.status ?? status} tz={prefs.tz} what="Risk from cached metrics and AWS violations" />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="fleet-head">
        <span>#</span>
        <span>Thing</span>
        <span>Risk</span>
        <span>Why</span>
        <span>Violations</span>
        <span>State</span>
        <span>Last report</span>
      </div>
      <div className="fleet-body" ref={scroller} data-testid="fleet-body">
        <div style={{ height: virt.getTotalSize(), position: "relative" }}>
          {virt.getVirtualItems().map((v) => {
            const r = rows[v.index];
            const stale = r.last_report !== null && now - r.last_report > 3_600_000 * 2;
            return (
              // biome-ignore lint/a11y/noStaticElementInteractions: the row selects on click; j/k and Enter select and open from the keyboard, and the thing's name is a link
              // biome-ignore lint/a11y/useKeyWithClickEvents: j/k and Enter are the keyboard equivalents
              <div
                key={r.key}
                className={`fleet-row${v.index === selected ? " selected" : ""}`}
                data-testid="fleet-row"
                data-thing={r.thing}
                style={{ transform: `translateY(${v.start}px)`, height: ROW }}
                onClick={() => setSelected(v.index)}
                onDoubleClick={() => open(r.key)}
              >
                <span className="rank">{v.index + 1}</span>
                <span className="thing-name">
                  <a
                    href={toHash({ screen: "thing", thing: r.key })}
                    data-testid="thing-link"
                    onClick={(e) => {
                      e.preventDefault();
                      perf.clicked();
                      open(r.key);
                    }}
                  >
                    {r.thing}
                    {r.account && (
                      <span
                        className="muted account"
                        data-testid="thing-account"
                        title={`AWS account ${r.account}${r.region ? ` in ${r.region}` : ""}`}
                      >
                        {" "}
                        {r.account}
                        {r.region ? `/${r.region}` : ""}
                      </span>
                    )}
                  </a>
                </span>
                <span className={`score${r.score >= 50 ? " high" : r.score >= 10 ? " mid" : ""}`}>{r.score.toFixed(1)}</span>
                <span className="reasons">
                  {r.categories.map((c) => (
                    <span key={c} className={`cat cat-${c}`}>
                      {CATEGORY_LABELS[c]}
                    </span>
                  ))}
                  <span className="reason-text">{r.reasons[0]?.text ?? "within its baseline"}</span>
                  {r.reasons.length > 1 && <span className="more"> +{r.reasons.length - 1}</span>}
                </span>
                <span>{r.open_violations || ""}</span>
                <span>
                  {r.quarantined ? <span className="badge q">QUARANTINED</span> : ""}
                  {r.case_state !== "new" && (
                    <span
                      className={`badge case case-${r.case_state}`}
                      data-testid="case-badge"
                      title={[r.case_owner && `owner ${r.case_owner}`, r.down_ranked].filter(Boolean).join(" · ")}
                    >
                      {r.case_state}
                    </span>
                  )}
                </span>
                <span className={stale ? "stale" : ""} title={stale ? "no report for over 2 h" : ""}>
                  {ago(r.last_report, now)}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}
