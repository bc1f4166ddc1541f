// Layout and keyboard flows of the built UI (ui/dist) in Debian's Chromium, driven by
// playwright-core, with the Tauri IPC mocked: a 100,000-thing fleet for the virtualized table,
// hostile names, a thing page with an SVG chart. Screenshots go to ui/test-results/.
//   node tests/layout.mjs            (CHROMIUM=/path/to/chromium to override)
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import assert from "node:assert/strict";

const DIST = new URL("../dist/", import.meta.url).pathname;
const OUT = new URL("../test-results/", import.meta.url).pathname;
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".ttf": "font/ttf", ".svg": "image/svg+xml" };

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  try {
    const file = join(DIST, path === "/" ? "index.html" : path);
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/`;

// Runs in the page before the app: a fake engine behind window.__TAURI_INTERNALS__.
function mockIpc() {
  const HOSTILE = '<img src=x onerror="window.__pwned=1">';
  const now = Date.UTC(2026, 10, 22, 12, 0);
  const status = {
    mode: "demo",
    demo_account: "detect",
    db: "/tmp/demo.sqlite",
    sources: [],
    things: 100000,
    points: 5e7,
    newest: now,
    last_sync: null,
  };
  const named = (i) => (i === 0 ? "cam-lobby-017" : i === 1 ? HOSTILE : `sensor-${String(i).padStart(6, "0")}`);
  const rows = Array.from({ length: 100000 }, (_, i) => ({
    thing: named(i),
    account: null,
    region: null,
    key: named(i),
    score: 100000 - i,
    reasons:
      i === 0
        ? [
            {
              text: "bytes out 140× its 7-day median",
              metric: "aws:all-bytes-out",
              categories: ["ddos-participation"],
              since: now - 3600e3,
              source: "baseline",
            },
          ]
        : [],
    categories: i === 0 ? ["ddos-participation"] : [],
    open_violations: i === 0 ? 1 : 0,
    last_report: now - (i % 50) * 60e3,
    quarantined: false,
    case_state: i === 0 ? "investigating" : "new",
    case_owner: i === 0 ? HOSTILE : null,
    down_ranked: null,
  }));
  const image = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
  const geometry = {
    kind: "numeric",
    left: 60,
    top: 20,
    width: 540,
    height: 180,
    x_from: now - 7 * 864e5,
    x_to: now,
    y_min: 0,
    y_max: 10,
    rows: [],
    zone: "UTC",
  };
  const chart = (metric) => ({
    metric,
    label: metric,
    image,
    width: 620,
    height: 230,
    geometry,
    points: 2016,
    hover: [[1, 9], null],
    hover_from: now - 7 * 864e5,
    hover_to: now,
    thresholds: [],
    bands: 0,
  });
  const callbacks = {};
  let next = 1;
  window.__ipcCalls = [];
  // What @tauri-apps/api's unlisten calls when a screen with an event listener unmounts.
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener: () => {} };
  window.__TAURI_INTERNALS__ = {
    transformCallback: (f) => {
      const id = next++;
      callbacks[id] = f;
      return id;
    },
    invoke: async (cmd, args) => {
      window.__ipcCalls.push(cmd);
      switch (cmd) {
        case "plugin:event|listen":
          return next++;
        case "plugin:event|unlisten":
          return null;
        case "status":
          return status;
        case "fleet":
          return { status, rows, window_to: now };
        case "mitigation_actions":
          return [];
        case "watch":
          return {
            sources: [
              {
                source: "splunk-prod",
                paused: false,
                last_sync: now - 60e3,
                next_sync: now + 240e3,
                failures: 2,
                error: HOSTILE,
                throttled: true,
              },
            ],
            unseen: 3,
            interval_ms: 300e3,
          };
        case "changes":
          return [
            {
              at: now - 30e3,
              kind: "alarm_started",
              thing: HOSTILE,
              what: `${HOSTILE} went into alarm: ${HOSTILE}`,
              id: "v9",
              severity: null,
              score: null,
            },
            {
              at: now - 20e3,
              kind: "finding",
              thing: null,
              what: "new CRITICAL audit finding: LOGGING_DISABLED_CHECK on acct",
              id: "f9",
              severity: "CRITICAL",
              score: null,
            },
          ];
        case "mark_changes_seen":
          return null;
        case "pending_link":
          return null;
        case "notify_filter":
          return { min_score: 60, severities: ["CRITICAL", "HIGH"], alarms: true, colleagues: true };
        case "plan_action":
          if (args.req.action === "verify_violation")
            return {
              id: "plan-2",
              action: "verify",
              thing: null,
              calls: [`PutVerificationStateOnViolation ${args.req.violation} verificationState=${args.req.state}`],
              warnings: [],
              needs_group: false,
              demo: true,
              min_reason: 10,
              target: { account: "demo", region: "demo", source: "demo", caller: "demo" },
            };
          return {
            id: "plan-1",
            action: args.req.action,
            thing: args.req.thing,
            calls: [`AddThingToThingGroup ${args.req.thing} -> Quarantine`],
            warnings: [],
            needs_group: false,
            demo: true,
            min_reason: 10,
            target: { account: "demo", region: "demo", source: "demo", caller: "demo" },
          };
        case "thing":
          return {
            thing: args.req.thing,
            account: null,
            region: null,
            key: args.req.thing,
            from: now - 7 * 864e5,
            to: now,
            last_report: now,
            charts: [chart("aws:all-bytes-out"), chart("aws:listening-tcp-ports")],
            drift: [
              { metric: "aws:listening-tcp-ports", value: "21", opened: now - 864e5, closed: null, attack_surface: true, expected: false },
            ],
            diff: [{ metric: "aws:listening-tcp-ports", value: "21", change: "added", attack_surface: true }],
            timeline: [{ t: now - 3600e3, kind: "violation", what: HOSTILE, id: "v1" }],
            violations: [
              {
                violation_id: "v-1",
                behavior: HOSTILE,
                security_profile: "Baseline",
                metric: "aws:all-bytes-out",
                started: now - 3600e3,
                ended: null,
                last_event: "in-alarm",
                categories: [],
                confidence: null,
                verification_state: null,
                verification_description: null,
              },
            ],
            groups: [],
            quarantined: false,
            hub_findings: 2,
            reasons: rows[0].reasons,
            score: 1,
            status,
            case: {
              state: "investigating",
              owner: HOSTILE,
              updated: now - 600e3,
              notes: [
                { at: now - 300e3, who: HOSTILE, text: HOSTILE, origin: null },
                { at: now - 200e3, who: HOSTILE, text: HOSTILE, origin: "security-hub" },
              ],
              history: [],
            },
          };
        default:
          throw { kind: "not_found", message: `no mock for ${cmd}` };
      }
    },
  };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let failed = false;
try {
  await mkdir(OUT, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.addInitScript(mockIpc);
  await page.goto(url);

  // Triage: the whole fleet is known, only a window of rows is in the DOM.
  await page.waitForSelector('[data-testid="fleet-row"]');
  assert.equal(await page.textContent('[data-testid="count"]'), "100000 of 100000 things");
  assert.equal(await page.textContent('[data-testid="demo-badge"]'), "DEMO");
  const inDom = await page.locator('[data-testid="fleet-row"]').count();
  assert.ok(inDom < 80, `virtualized: ${inDom} rows in the DOM`);
  // Hostile names are text.
  const hostile = page.locator('[data-testid="fleet-row"]').nth(1).locator('[data-testid="thing-link"]');
  assert.equal(await hostile.textContent(), '<img src=x onerror="window.__pwned=1">');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.screenshot({ path: `${OUT}layout-triage.png` });

  // Scrolling to the end stays virtualized and shows the last thing.
  await page.hover('[data-testid="fleet-body"]');
  const t0 = Date.now();
  for (let i = 0; i < 10; i++) {
    await page.mouse.wheel(0, 40000);
    await page.waitForTimeout(10);
  }
  await page.evaluate(() => {
    const b = document.querySelector('[data-testid="fleet-body"]');
    b.scrollTop = b.scrollHeight;
  });
  await page.waitForSelector('[data-thing="sensor-099999"]', { timeout: 5000 });
  console.log(`scrolled 100,000 rows to the end in ${Date.now() - t0} ms`);
  assert.ok((await page.locator('[data-testid="fleet-row"]').count()) < 80);

  // Keyboard: / search, j/k, Enter, Esc, ?.
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "search");
  await page.keyboard.type("sensor-00001");
  await page.waitForFunction(() => document.querySelector('[data-testid="count"]')?.textContent?.startsWith("10 of"));
  await page.keyboard.press("Escape");
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await page.keyboard.press("k");
  assert.equal(await page.getAttribute(".fleet-row.selected", "data-thing"), "sensor-000011");
  const thingCalls = await page.evaluate(() => window.__ipcCalls.filter((c) => c === "thing").length);
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="thing-page"]');
  assert.match(page.url(), /#\/thing\/sensor-000011$/);
  // Asked for once, ahead of the screen, and taken by it.
  assert.equal(await page.evaluate(() => window.__ipcCalls.filter((c) => c === "thing").length), thingCalls + 1);
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="chart"]')].every((c) => c.getAttribute("data-painted") === "1"),
  );
  // The chart SVG is an image, never markup in the document.
  assert.equal(await page.locator("main svg").count(), 0);
  await page.screenshot({ path: `${OUT}layout-thing.png` });
  await page.keyboard.press("?");
  await page.waitForSelector('[data-testid="shortcuts"]');
  await page.keyboard.press("Escape");
  await page.keyboard.press("Escape");
  await page.waitForSelector('[data-testid="triage"]');

  // Deep link to a hostile name and window.
  await page.goto(`${url}#/thing/${encodeURIComponent('<img src=x onerror="window.__pwned=1">')}?from=1&to=2`);
  await page.waitForSelector('[data-testid="thing-title"]');
  assert.equal(await page.textContent('[data-testid="thing-title"]'), '<img src=x onerror="window.__pwned=1">');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);

  // A long unbroken name (certificate ids are 64 hex digits) wraps in the action dialog instead
  // of pushing it sideways.
  const long = "691616c83a6155e20fe055a2fc34bfeb4f5986ae27439a92df057efc21e0c754".repeat(3);
  await page.goto(`${url}#/thing/${long}`);
  await page.waitForSelector('[data-testid="quarantine"]');
  const pageOverflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(pageOverflow <= 0, `the thing's page scrolls sideways by ${pageOverflow}px`);
  await page.click('[data-testid="quarantine"]');
  await page.waitForSelector('[data-testid="plan-calls"] li');
  const overflow = await page.evaluate(() => {
    const m = document.querySelector('[data-testid="action-dialog"]');
    return m.scrollWidth - m.clientWidth;
  });
  assert.ok(overflow <= 0, `the dialog scrolls sideways by ${overflow}px`);
  await page.screenshot({ path: `${OUT}layout-dialog.png` });
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.querySelector('[data-testid="action-dialog"]'));

  // A violation's verification state is set in AWS through the same plan and confirmation.
  await page.selectOption('[data-testid="verify-violation"]', "BENIGN_POSITIVE");
  await page.waitForSelector('[data-testid="plan-calls"] li');
  assert.equal(
    await page.textContent('[data-testid="plan-calls"] li'),
    "PutVerificationStateOnViolation v-1 verificationState=BENIGN_POSITIVE",
  );
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.querySelector('[data-testid="action-dialog"]'));

  // The watcher: the header says when the next sync is and that a source is failing; the
  // Changes list shows hostile text as text and links each change to its thing.
  await page.waitForSelector('[data-testid="changes-badge"]');
  assert.equal(await page.textContent('[data-testid="changes-badge"]'), "3");
  assert.match(await page.textContent('[data-testid="watch-line"]'), /next sync .* 1 source\(s\) failing/);
  await page.click('[data-testid="nav-changes"]');
  await page.waitForSelector('[data-testid="change"]');
  assert.equal(await page.locator('[data-testid="change"]').count(), 2);
  assert.ok((await page.textContent('[data-testid="changes"]')).includes('<img src=x onerror="window.__pwned=1">'));
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.screenshot({ path: `${OUT}layout-changes.png` });
  await page.click('[data-testid="change-thing"]');
  await page.waitForSelector('[data-testid="thing-title"]');

  // Preferences persist across reloads (restarts): light theme, local zone.
  await page.click('[data-testid="theme"]');
  await page.reload();
  await page.waitForSelector('[data-testid="thing-title"]');
  assert.equal(await page.getAttribute("html", "data-theme"), "light");
  await page.screenshot({ path: `${OUT}layout-light.png` });
  assert.deepEqual(errors, []);

  // The window sizes analysts have: a 1280x800 laptop (the smallest the window opens at on it)
  // and a 1920x1080 desktop. Nothing scrolls sideways, and the action dialog fits on screen.
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 1920, height: 1080 },
  ]) {
    const p = await browser.newPage({ viewport });
    const size = `${viewport.width}x${viewport.height}`;
    p.on("pageerror", (e) => errors.push(`${size}: ${e}`));
    await p.addInitScript(mockIpc);
    await p.goto(url);
    await p.waitForSelector('[data-testid="fleet-row"]');
    const sideways = () => p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok((await sideways()) <= 0, `${size}: triage scrolls sideways by ${await sideways()}px`);
    await p.screenshot({ path: `${OUT}layout-triage-${size}.png` });
    await p.goto(`${url}#/thing/${long}`);
    await p.waitForSelector('[data-testid="quarantine"]');
    assert.ok((await sideways()) <= 0, `${size}: the thing's page scrolls sideways by ${await sideways()}px`);
    await p.screenshot({ path: `${OUT}layout-thing-${size}.png` });
    await p.click('[data-testid="quarantine"]');
    await p.waitForSelector('[data-testid="plan-calls"] li');
    const box = await p.locator('[data-testid="action-dialog"]').boundingBox();
    assert.ok(
      box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height,
      `${size}: the action dialog (${JSON.stringify(box)}) does not fit the window`,
    );
    await p.close();
  }
  assert.deepEqual(errors, []);
  console.log("layout tests ok");
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
  server.close();
}
process.exit(failed ? 1 : 0);
