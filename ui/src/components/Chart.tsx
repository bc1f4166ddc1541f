import { useRef, useState } from "react";
import type { ChartView } from "../bindings";
import { brushWindow, formatTime, hoverAt, humanNumber, timeAt, type Prefs } from "../lib";

/** An engine-rendered chart shown as an image (never as markup), with a hover crosshair and
 *  brush-to-zoom computed from the geometry the engine returned. The image is a PNG data: URL
 *  drawn at the display's pixel density and shown at its logical size: WebKit decodes and paints
 *  a bitmap far faster than an SVG image of the same chart, and a data: URL loads in the web
 *  process (blob: URLs go through WebKit's network process) with nothing to revoke. */
export function Chart(props: {
  chart: ChartView;
  tz: Prefs["tz"];
  onZoom: (w: { from: number; to: number }) => void;
  onExport: () => void;
  /** The image has loaded (its bytes are in). */
  onLoaded?: () => void;
  /** The image is decoded and ready to paint. */
  onPainted?: () => void;
}) {
  const { chart, tz } = props;
  const [hoverX, setHoverX] = useState<number | null>(null);
  const [brush, setBrush] = useState<[number, number] | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const g = chart.geometry;
  const [painted, setPainted] = useState(false);

  // The image is drawn at its natural size, so plot pixels are CSS pixels.
  const localX = (e: React.MouseEvent) => e.clientX - box.current!.getBoundingClientRect().left;

  const t = hoverX !== null ? timeAt(hoverX, g) : null;
  const bucket = t !== null && g.kind === "numeric" ? hoverAt(chart.hover, chart.hover_from, chart.hover_to, t) : null;

  return (
    <figure className="chart" data-testid="chart" data-metric={chart.metric} data-painted={painted ? "1" : "0"}>
      <figcaption>
        <span className="chart-title">{chart.label}</span>
        <span className="chart-meta">
          {chart.points} {chart.per != null ? "events" : "points"}
          {chart.thresholds.length ? ` · threshold ${chart.thresholds.join(", ")}` : ""}
          {chart.bands ? ` · ${chart.bands} violation interval${chart.bands > 1 ? "s" : ""}` : ""}
          {chart.compacted_until != null && (
            <span data-testid="compacted"> · hourly means until {formatTime(chart.compacted_until, props.tz)} (compacted)</span>
          )}
        </span>
        <button type="button" className="small" onClick={props.onExport} title="Save as PNG">
          PNG
        </button>
      </figcaption>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: hover shows values and a drag zooms; the same values are in the CSV export and the range picker zooms from the keyboard */}
      <div
        className="chart-box"
        ref={box}
        onMouseMove={(e) => {
          const x = localX(e);
          setHoverX(x);
          if (brush) setBrush([brush[0], x]);
        }}
        onMouseLeave={() => {
          setHoverX(null);
          setBrush(null);
        }}
        onMouseDown={(e) => setBrush([localX(e), localX(e)])}
        onMouseUp={() => {
          if (brush) {
            const w = brushWindow(brush[0], brush[1], g);
            setBrush(null);
            if (w) props.onZoom(w);
          }
        }}
      >
        <img
          src={chart.image}
          width={chart.width}
          height={chart.height}
          alt={`${chart.label} chart`}
          draggable={false}
          onLoad={(e) => {
            props.onLoaded?.();
            // Decoded before it counts as shown (WebKit would otherwise decode at first paint).
            e.currentTarget
              .decode()
              .catch(() => undefined)
              .then(() => {
                setPainted(true);
                props.onPainted?.();
              });
          }}
        />
        {hoverX !== null && t !== null && <div className="crosshair" style={{ left: hoverX, top: g.top, height: g.height }} />}
        {brush && (
          <div
            className="brush"
            style={{ left: Math.min(brush[0], brush[1]), width: Math.abs(brush[1] - brush[0]), top: g.top, height: g.height }}
          />
        )}
        {t !== null && (
          <div className="hover-label" style={{ left: Math.min((hoverX ?? 0) + 8, g.left + g.width - 160), top: g.top + 4 }}>
            {formatTime(t, tz)}
            {bucket && (
              <>
                <br />
                {bucket[0] === bucket[1] ? humanNumber(bucket[0]) : `${humanNumber(bucket[0])} – ${humanNumber(bucket[1])}`}
              </>
            )}
          </div>
        )}
      </div>
    </figure>
  );
}
