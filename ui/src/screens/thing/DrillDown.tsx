// A thing an Athena screen named has only its screen's evidence in the cache: the page offers to
// read its full history where the export lies, with what that query would scan and cost first,
// and what it read and cost after. *Cancel* stops the query in Athena (StopQueryExecution).
import { useQuery } from "@tanstack/react-query";
import { api, queries, useWrite } from "../../api";
import type { SourceSummary } from "../../bindings";
import { formatBytes, formatUsd } from "../../lib";

export function DrillDown({ thing, onRead }: { thing: string; onRead: () => void }) {
  const offers = useQuery(queries.drillOffers(thing));
  const read = useWrite<SourceSummary>();
  if (offers.error) {
    return (
      <p className="error small" data-testid="drill-error">
        Could not estimate the drill-down: {offers.error.message}
      </p>
    );
  }
  if (!offers.data?.length && !read.data) return null;
  return (
    <div className="drill-down" data-testid="drill-down">
      {offers.data?.map((o) => (
        <div key={o.source}>
          <button
            type="button"
            data-testid="drill-read"
            disabled={read.isPending || o.refused}
            onClick={() => read.mutate(() => api.drillDown(thing, o.source), { onSuccess: onRead })}
          >
            {read.isPending ? "Reading…" : `Read its full history from ${o.source}`}
          </button>{" "}
          {read.isPending && (
            <button type="button" data-testid="drill-cancel" onClick={() => void api.cancelSync()}>
              Cancel
            </button>
          )}{" "}
          <span className="muted small" data-testid="drill-estimate">
            one Athena query scanning about {formatBytes(o.bytes_per_query)} — about {formatUsd(o.cost_usd)}
            {o.refused && `, above the source's limit of ${formatBytes(o.max_scan_bytes)}: refused`}
          </span>
        </div>
      ))}
      {read.data && (
        <p className="ok small" data-testid="drill-result">
          Read {read.data.datapoints} datapoints from {read.data.source}; {read.data.queries} query scanned{" "}
          {formatBytes(read.data.bytes_scanned)} for {formatUsd(read.data.cost_usd)}.
          {read.data.skipped > 0 && ` ${read.data.skipped} record(s) refused: ${read.data.warnings.join("; ")}`}
        </p>
      )}
      {read.error && (
        <p className="error small" role="alert" data-testid="drill-error">
          {read.error.message}
        </p>
      )}
    </div>
  );
}
