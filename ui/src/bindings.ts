// Generated from the Rust types by ts-rs (desk_engine::app::bindings); do not edit.
// Regenerate: UPDATE_BINDINGS=1 cargo test -p desk-engine --test it bindings
// 64-bit integers are JSON numbers on the wire, named for what they hold (desk_engine::ts).

export type Millis = number;

export type Count = number;

export type Category = "ddos-participation" | "backdoor-recon" | "exfiltration-c2" | "brute-force" | "malware-cryptominer" | "connection-abuse-jamming";

export type Geometry = { 
/**
 * What it plots.
 */
kind: GeometryKind, 
/**
 * Plot area left edge, pixels.
 */
left: number, 
/**
 * Plot area top edge.
 */
top: number, 
/**
 * Plot area width.
 */
width: number, 
/**
 * Plot area height.
 */
height: number, 
/**
 * Time at the left edge (epoch ms).
 */
x_from: Millis, 
/**
 * Time at the right edge.
 */
x_to: Millis, 
/**
 * Value at the bottom edge (row index for drift charts).
 */
y_min: number, 
/**
 * Value at the top edge.
 */
y_max: number, 
/**
 * Drift charts: the member on each row, bottom to top.
 */
rows: Array<string>, 
/**
 * Time zone stated on the chart.
 */
zone: string, };

export type GeometryKind = "numeric" | "drift" | "audit" | "empty";

export type DeskError = { 
/**
 * What kind of failure it is.
 */
kind: ErrorKind, 
/**
 * What went wrong, for people.
 */
message: string, };

export type ErrorKind = "store" | "cache_version" | "parse" | "not_found" | "invalid_input" | "secrets" | "source" | "cancelled" | "io" | "internal";

export type Status = { 
/**
 * The demo fleet or the analyst's cache.
 */
mode: Mode, 
/**
 * Which simulated account the demo shows (also in `live` mode: the one shown when the
 * cache is empty again).
 */
demo_account: DemoAccount, 
/**
 * The cache file shown.
 */
db: string, 
/**
 * Configured sources (none in demo mode).
 */
sources: Array<SourceView>, 
/**
 * Things in the cache.
 */
things: number, 
/**
 * Datapoints in the cache.
 */
points: number, 
/**
 * Newest datapoint.
 */
newest: Millis | null, 
/**
 * The last sync's end, per source.
 */
last_sync: Millis | null, };

export type HistoryView = { 
/**
 * Bytes of the cache's pages in use.
 */
file_bytes: number, 
/**
 * Points held raw.
 */
points: number, 
/**
 * Points held as hourly aggregates (compacted days).
 */
compacted_points: number, 
/**
 * Bytes per point, the whole file counted.
 */
bytes_per_point: number, 
/**
 * The oldest data.
 */
oldest: Millis | null, 
/**
 * Chunks an older version wrote are still being upgraded (in the background).
 */
upgrade_pending: boolean, 
/**
 * Raw points are kept this many days, older days become hourly aggregates; `None`: never
 * compacted (the default).
 */
keep_raw_days: number | null, };

export type Mode = "demo" | "live";

export type DemoAccount = "detect" | "no-detect";

export type SourceKind = "s3" | "splunk" | "defender" | "athena" | "security-hub";

export type SourceView = { 
/**
 * Name.
 */
name: string, 
/**
 * What kind of source.
 */
kind: SourceKind, 
/**
 * Where it points, in one line (bucket/prefix, URL/index, region/profile).
 */
target: string, 
/**
 * Whether a secret is kept for it in the OS keychain (Splunk).
 */
has_secret: boolean, 
/**
 * Last sync end.
 */
last_sync: Millis | null, 
/**
 * Whether that sync succeeded.
 */
last_ok: boolean | null, 
/**
 * Its errors, said plainly.
 */
last_errors: Array<string>, 
/**
 * The account of the things it brings, `null` when unknown.
 */
account: string | null, 
/**
 * Their region, `null` when unknown.
 */
region: string | null, 
/**
 * `stated` (by the analyst) or `learned` (STS), when the account is known.
 */
account_from: string | null, };

export type AwsSettings = { 
/**
 * Region (`us-east-1`).
 */
region?: string, 
/**
 * Named profile from `~/.aws/config`.
 */
profile?: string, 
/**
 * Endpoint override (S3-compatible stores, test servers).
 */
endpoint_url?: string, };

export type Carried = "export" | "device-reports" | "alerts" | "api";

export type S3Settings = { 
/**
 * Bucket name.
 */
bucket: string, 
/**
 * Key prefix in front of the `YYYY/MM/DD/HH/` partitions (may be empty).
 */
prefix: string, 
/**
 * Path-style addressing (most S3-compatible stores).
 */
path_style: boolean, 
/**
 * The families of documents the bucket carries (`export`, `device-reports`, `alerts`,
 * `api`): a record of another family is refused and reported. Absent in settings stored
 * before sources declared it: every family is read.
 */
carries?: Array<Carried>, 
/**
 * Region (`us-east-1`).
 */
region?: string, 
/**
 * Named profile from `~/.aws/config`.
 */
profile?: string, 
/**
 * Endpoint override (S3-compatible stores, test servers).
 */
endpoint_url?: string, };

export type SplunkSettings = { 
/**
 * Management URL, e.g. `https://splunk.example:8089`.
 */
url: string, 
/**
 * Index holding the Device Defender events.
 */
index: string, 
/**
 * Sourcetype of those events.
 */
sourcetype: string, 
/**
 * PEM bundle of extra trusted CAs (self-signed Splunk certificates). Verification stays on.
 */
ca_bundle?: string, 
/**
 * The families of documents the index carries (see [`crate::sources::S3Settings::carries`]).
 */
carries?: Array<Carried>, };

export type Layout = "export" | "device-reports";

export type AthenaSettings = { 
/**
 * Database (`defender`).
 */
database: string, 
/**
 * Table (`metrics_export`).
 */
table: string, 
/**
 * Where Athena writes query results (`s3://bucket/prefix/`).
 */
output: string, 
/**
 * Workgroup (Athena's `primary` when absent).
 */
workgroup?: string, 
/**
 * The table's layout.
 */
layout: Layout, 
/**
 * The most bytes one query may scan, as estimated before it runs.
 */
max_scan_bytes: Count, 
/**
 * Candidates a screen keeps.
 */
candidates: number, 
/**
 * Region (`us-east-1`).
 */
region?: string, 
/**
 * Named profile from `~/.aws/config`.
 */
profile?: string, 
/**
 * Endpoint override (S3-compatible stores, test servers).
 */
endpoint_url?: string, };

export type SecurityHubSettings = { 
/**
 * Region (`us-east-1`).
 */
region?: string, 
/**
 * Named profile from `~/.aws/config`.
 */
profile?: string, 
/**
 * Endpoint override (S3-compatible stores, test servers).
 */
endpoint_url?: string, };

export type DefenderSettings = { 
/**
 * Region (`us-east-1`).
 */
region?: string, 
/**
 * Named profile from `~/.aws/config`.
 */
profile?: string, 
/**
 * Endpoint override (S3-compatible stores, test servers).
 */
endpoint_url?: string, };

export type SourceSettings = { "kind": "s3" } & S3Settings | { "kind": "splunk" } & SplunkSettings | { "kind": "defender" } & DefenderSettings | { "kind": "athena" } & AthenaSettings | { "kind": "security-hub" } & SecurityHubSettings;

export type SourceInput = { 
/**
 * Name (letters, digits, `_`, `-`, `.`).
 */
name: string, 
/**
 * The kind and its settings.
 */
settings: SourceSettings, 
/**
 * Its secret (a Splunk token): straight to the OS keychain.
 */
token: string | null, 
/**
 * The account of the things it brings (12 digits), when the analyst states it: an S3
 * bucket's or Splunk index's devices; a Device Defender API source learns its own.
 */
account?: string, 
/**
 * Their region, with the account.
 */
region?: string, };

export type ReasonSource = "baseline" | "baseline+fleet" | "baseline+peers" | "peers" | "expected-set" | "attack-surface" | "counter-restart" | "aws-detect" | "lifecycle" | "fleet-screen";

export type ReasonView = { 
/**
 * For people.
 */
text: string, 
/**
 * Metric.
 */
metric: string, 
/**
 * Attack categories.
 */
categories: Array<Category>, 
/**
 * Since when.
 */
since: Millis, 
/**
 * What it was compared with.
 */
source: ReasonSource, };

export type FleetRow = { 
/**
 * Risk score.
 */
score: number, 
/**
 * Reasons.
 */
reasons: Array<ReasonView>, 
/**
 * Attack categories.
 */
categories: Array<Category>, 
/**
 * Violations in alarm.
 */
open_violations: number, 
/**
 * Newest report.
 */
last_report: Millis | null, 
/**
 * Where its investigation stands (`new` when never set).
 */
case_state: CaseState, 
/**
 * Who owns the investigation.
 */
case_owner: string | null, 
/**
 * Why its score was lowered (resolved benign, no new evidence since), in one line.
 */
down_ranked: string | null, 
/**
 * Whether the thing is quarantined (by an action logged here). Last: `ddesk triage`'s
 * columns before it are a contract in their order.
 */
quarantined: boolean, 
/**
 * The thing name.
 */
thing: string, 
/**
 * Its AWS account, `null` when unknown.
 */
account: string | null, 
/**
 * Its region, `null` when unknown.
 */
region: string | null, 
/**
 * The key that names it in the cache and the app's calls.
 */
key: string, };

export type Fleet = { 
/**
 * Where the data comes from.
 */
status: Status, 
/**
 * Things, riskiest first.
 */
rows: Array<FleetRow>, 
/**
 * End of the baseline window.
 */
window_to: Millis | null, };

export type Look = { 
/**
 * Width, px.
 */
width: number, 
/**
 * Height, px.
 */
height: number, 
/**
 * `UTC` or an IANA zone.
 */
tz: string, 
/**
 * Dark or light.
 */
theme: Theme, 
/**
 * Device pixels per CSS pixel (the display's `devicePixelRatio`), 1 when absent: chart
 * images are drawn at that density so they stay sharp on high-DPI screens.
 */
scale?: number, };

export type Theme = "dark" | "light";

export type ChartView = { 
/**
 * Metric.
 */
metric: string, 
/**
 * Short label.
 */
label: string, 
/**
 * The chart as a `data:image/png;base64,…` URL (shown as an image, never as markup),
 * drawn at the request's scale: a bitmap, which WebKit decodes and paints far faster than
 * an SVG image of the same chart.
 */
image: string, 
/**
 * Logical width of the image, CSS pixels (the geometry's frame).
 */
width: number, 
/**
 * Logical height, CSS pixels.
 */
height: number, 
/**
 * Plot area and scales, for the crosshair and brush-zoom.
 */
geometry: Geometry, 
/**
 * Datapoints in the window.
 */
points: number, 
/**
 * Hover values: `(min, max)` of each of `hover.len()` equal columns over
 * `[hover_from, hover_to]` (4 significant digits; `null` where nothing was reported).
 */
hover: Array<[number, number] | null>, 
/**
 * Start of the first hover column.
 */
hover_from: Millis, 
/**
 * End of the last hover column.
 */
hover_to: Millis, 
/**
 * Threshold lines.
 */
thresholds: Array<string>, 
/**
 * Violation bands in the window.
 */
bands: number, 
/**
 * Event charts (lifecycle connects and disconnects): the interval each bar counts events
 * over, ms (a duration: a number everywhere); `points` is then the number of events.
 */
per: Millis | null, 
/**
 * Up to this instant the window's days are compacted: the chart shows hourly means there,
 * not reports (`null`: every point is a report).
 */
compacted_until: Millis | null, };

export type DriftRow = { 
/**
 * Metric.
 */
metric: string, 
/**
 * Member (port, CIDR, string), as text.
 */
value: string, 
/**
 * Appeared.
 */
opened: Millis, 
/**
 * Went away.
 */
closed: Millis | null, 
/**
 * An attack-surface port.
 */
attack_surface: boolean, 
/**
 * In the expected set (from behaviors or the thing's baseline).
 */
expected: boolean, };

export type Member = number | string;

export type DiffView = { 
/**
 * Member.
 */
value: Member, 
/**
 * Added, removed or unchanged.
 */
change: Change, 
/**
 * An attack-surface port.
 */
attack_surface: boolean, 
/**
 * Metric.
 */
metric: string, };

export type Change = "added" | "removed" | "unchanged";

export type TimelineRow = { 
/**
 * When.
 */
t: Millis, 
/**
 * What it is.
 */
kind: EntryKind, 
/**
 * What happened.
 */
what: string, 
/**
 * Record id.
 */
id: string, };

export type EntryKind = "action" | "case" | "finding" | "mitigation" | "violation";

export type ViolationView = { 
/**
 * Violation id.
 */
violation_id: string, 
/**
 * Security profile.
 */
security_profile: string, 
/**
 * Behavior.
 */
behavior: string, 
/**
 * Metric.
 */
metric: string | null, 
/**
 * Start.
 */
started: Millis | null, 
/**
 * End.
 */
ended: Millis | null, 
/**
 * Latest event type.
 */
last_event: string | null, 
/**
 * The value that last violated, as AWS sent it (`{"count": 5}`, `{"ports": [23]}`, …).
 */
last_value: unknown, 
/**
 * The analyst's verification state (newest sighting).
 */
verification_state: VerificationState | null, 
/**
 * The analyst's note on it.
 */
verification_description: string | null, 
/**
 * ML Detect's confidence level.
 */
confidence: Confidence | null, 
/**
 * Attack categories.
 */
categories: Array<Category>, 
/**
 * The thing name.
 */
thing: string, 
/**
 * Its AWS account, `null` when unknown.
 */
account: string | null, 
/**
 * Its region, `null` when unknown.
 */
region: string | null, 
/**
 * The key that names it in the cache and the app's calls.
 */
key: string, };

export type ThingRequest = { 
/**
 * Thing name.
 */
thing: string, 
/**
 * Window start (default: 7 days before `to`).
 */
from: Millis | null, 
/**
 * Window end (default: the thing's newest report).
 */
to: Millis | null, 
/**
 * Chart look.
 */
look: Look, };

export type ThingPage = { 
/**
 * Window start.
 */
from: Millis, 
/**
 * Window end.
 */
to: Millis, 
/**
 * Newest report.
 */
last_report: Millis | null, 
/**
 * Charts, in reading order.
 */
charts: Array<ChartView>, 
/**
 * Set-metric intervals.
 */
drift: Array<DriftRow>, 
/**
 * Start-vs-end diff of the set metrics.
 */
diff: Array<DiffView>, 
/**
 * Timeline, oldest first.
 */
timeline: Array<TimelineRow>, 
/**
 * Violations.
 */
violations: Array<ViolationView>, 
/**
 * Thing groups known to the cache.
 */
groups: Array<string>, 
/**
 * Whether quarantined.
 */
quarantined: boolean, 
/**
 * Triage reasons for this thing.
 */
reasons: Array<ReasonView>, 
/**
 * Risk score.
 */
score: number, 
/**
 * Where the data comes from.
 */
status: Status, 
/**
 * Its investigation: state, owner, notes.
 */
case: Case, 
/**
 * The Security Hub findings its violations came through (what *Push to Security Hub*
 * updates; none: nothing to push).
 */
hub_findings: Count, 
/**
 * The thing name.
 */
thing: string, 
/**
 * Its AWS account, `null` when unknown.
 */
account: string | null, 
/**
 * Its region, `null` when unknown.
 */
region: string | null, 
/**
 * The key that names it in the cache and the app's calls.
 */
key: string, };

export type ChartRequest = { 
/**
 * Thing.
 */
thing: string, 
/**
 * Metric.
 */
metric: string, 
/**
 * Window start.
 */
from: Millis, 
/**
 * Window end.
 */
to: Millis, 
/**
 * Look.
 */
look: Look, };

export type Resource = { 
/**
 * `DEVICE_CERTIFICATE`, `CLIENT_ID`, …
 */
type: string | null, 
/**
 * The identifier, rendered to one string (certificate id, client id, policy:version, …).
 */
id: string, 
/**
 * `resourceIdentifier` as AWS sent it.
 */
identifier: Record<string, unknown>, 
/**
 * `additionalInfo`.
 */
additional_info: { [key in string]?: string }, };

export type Severity = "CRITICAL" | "HIGH" | "MEDIUM" | "LOW";

export type VerificationState = "FALSE_POSITIVE" | "BENIGN_POSITIVE" | "TRUE_POSITIVE" | "UNKNOWN";

export type Confidence = "LOW" | "MEDIUM" | "HIGH";

export type FindingRow = { 
/**
 * Finding id.
 */
finding_id: string, 
/**
 * Task id.
 */
task_id: string | null, 
/**
 * Check name.
 */
check: string, 
/**
 * Severity.
 */
severity: Severity | null, 
/**
 * Resource type.
 */
resource_type: string | null, 
/**
 * Resource, as one string.
 */
resource: string, 
/**
 * Reason.
 */
reason: string | null, 
/**
 * `reasonForNonComplianceCode`.
 */
reason_code: string | null, 
/**
 * Suppressed.
 */
suppressed: boolean, 
/**
 * Finding time.
 */
found: Millis | null, 
/**
 * `relatedResources`: the evidence beside the resource.
 */
related_resources: Array<Resource>, 
/**
 * The account it belongs to, when known (Security Hub's, or its source's).
 */
account: string | null, 
/**
 * Its region, when known.
 */
region: string | null, };

export type AuditRow = { 
/**
 * Task id.
 */
task_id: string, 
/**
 * Task start.
 */
task_start: Millis | null, 
/**
 * Check name.
 */
check: string, 
/**
 * Check run status.
 */
status: string, 
/**
 * Non-compliant resources.
 */
non_compliant: Count | null, 
/**
 * Resources evaluated.
 */
total: Count | null, 
/**
 * Suppressed non-compliant resources.
 */
suppressed: Count | null, 
/**
 * Why a check failed (`INSUFFICIENT_PERMISSIONS`, `AUDIT_CHECK_DISABLED`).
 */
error_code: string | null, 
/**
 * The message that came with it.
 */
message: string | null, };

export type AuditPage = { 
/**
 * Check history chart.
 */
chart: ChartView, 
/**
 * Latest task id.
 */
latest_task: string | null, 
/**
 * Its start.
 */
latest_start: Millis | null, 
/**
 * Its checks.
 */
checks: Array<AuditRow>, 
/**
 * Findings, newest first.
 */
findings: Array<FindingRow>, 
/**
 * The investigation state of every finding that has one.
 */
finding_states: Array<FindingState>, 
/**
 * Where the data comes from.
 */
status: Status, };

export type OutcomeKind = "pending" | "succeeded" | "failed" | "unknown";

export type OutcomeState = { 
/**
 * What it came to.
 */
kind: OutcomeKind, 
/**
 * Found by reconciling an interrupted action.
 */
reconciled: boolean, 
/**
 * Why, when it failed or is unknown and the record says.
 */
why: string | null, };

export type ActionKind = "quarantine" | "release" | "mitigate" | "verify" | "hub";

export type OutcomeDetail = { 
/**
 * Per call: request id or error.
 */
steps: unknown, 
/**
 * The mitigation task's result, when one ran.
 */
task: unknown, 
/**
 * What reconciling observed, when it did.
 */
observed: unknown, };

export type ActionView = { 
/**
 * Sequence number of the intent (in the colleague's log for a colleague's action).
 */
seq: Count, 
/**
 * When it was logged.
 */
at: Millis, 
/**
 * The AWS caller.
 */
who: string, 
/**
 * The OS user.
 */
os_user: string, 
/**
 * Which action.
 */
action: ActionKind, 
/**
 * The thing acted on (its name).
 */
thing: string | null, 
/**
 * Its stored key (what opens its page: two accounts' things may share the name).
 */
thing_key: string | null, 
/**
 * The analyst's reason.
 */
reason: string, 
/**
 * The calls as shown before confirming (none known for a colleague's).
 */
calls: Array<string>, 
/**
 * The state before (what release restores).
 */
prior: unknown, 
/**
 * What it came to, as logged: `succeeded`, `failed …`, `unknown (…)`, `pending` without an
 * outcome. Branch on `state`, never on this sentence.
 */
status: string, 
/**
 * The same, typed: `{kind: pending|succeeded|failed|unknown, reconciled, why}`.
 */
state: OutcomeState, 
/**
 * When the outcome was logged.
 */
outcome_at: Millis | null, 
/**
 * The outcome's steps, task result and what reconciling observed.
 */
outcome: OutcomeDetail | null, 
/**
 * Against the simulated demo account.
 */
demo: boolean, 
/**
 * The intent's hash in the chain (empty for a colleague's).
 */
hash: string, 
/**
 * A colleague's action, read back from the anchor.
 */
colleague: boolean, 
/**
 * The colleague's cache (its random id).
 */
cache?: string, 
/**
 * A colleague's record: whether its anchored hash chain holds (checked when read). An
 * unverified one is anyone's claim. Absent for this cache's own (`actions verify` checks
 * the local chain).
 */
verified?: boolean, };

export type ActionRequest = { "action": "quarantine", 
/**
 * Thing.
 */
thing: string, 
/**
 * Group.
 */
group: string, 
/**
 * Create it if missing.
 */
create_group: boolean, 
/**
 * Deactivate certificates too.
 */
deactivate_certificate: boolean, } | { "action": "release", 
/**
 * Thing.
 */
thing: string, } | { "action": "mitigate_violation", 
/**
 * Violation id.
 */
violation: string, 
/**
 * Action name.
 */
name: string, } | { "action": "mitigate_finding", 
/**
 * Finding id.
 */
finding: string, 
/**
 * Action name.
 */
name: string, } | { "action": "verify_violation", 
/**
 * Violation id.
 */
violation: string, 
/**
 * The verdict.
 */
state: VerificationState, 
/**
 * A note for AWS (at most 1,000 characters).
 */
description: string | null, } | { "action": "hub_case", 
/**
 * Thing (its key or name), or
 */
thing: string | null, 
/**
 * an audit finding id.
 */
finding: string | null, };

export type MitigationFor = "violation" | "finding";

export type Target = { 
/**
 * AWS account id (`demo` for the simulated account).
 */
account: string, 
/**
 * Region (`demo` for the simulated account).
 */
region: string, 
/**
 * The Device Defender source acted through, `default credential chain`, or `demo`.
 */
source: string, 
/**
 * The caller's ARN (STS GetCallerIdentity).
 */
caller: string, };

export type PlanView = { 
/**
 * Handle to execute it with.
 */
id: string, 
/**
 * Which action.
 */
action: ActionKind, 
/**
 * Thing.
 */
thing: string | null, 
/**
 * The exact calls.
 */
calls: Array<string>, 
/**
 * Pre-flight warnings.
 */
warnings: Array<string>, 
/**
 * The quarantine group does not exist yet: the analyst must choose to create it (with
 * the deny-all policy) and plan again before it can run.
 */
needs_group: boolean, 
/**
 * Against the demo account.
 */
demo: boolean, 
/**
 * Minimum reason length.
 */
min_reason: number, 
/**
 * The account, region, source and caller it runs against (shown before confirming).
 */
target: Target | null, };

export type OutcomeView = { 
/**
 * The stored sentence: `succeeded`, `failed (…)`, `unknown (…)`.
 */
status: string, 
/**
 * What it came to, typed: the UI branches on this, never on `status`.
 */
state: OutcomeState, 
/**
 * Which action.
 */
action: ActionKind, 
/**
 * Thing.
 */
thing: string | null, 
/**
 * Per call: what happened.
 */
steps: Array<string>, 
/**
 * Log sequence number of the intent.
 */
intent: number, };

export type Saved = { 
/**
 * Absolute path.
 */
path: string, 
/**
 * Bytes written.
 */
bytes: number, };

export type ChangeKind = "alarm_started" | "alarm_cleared" | "finding" | "score_up" | "score_down" | "colleague_action";

export type WatchChange = { 
/**
 * When it was noticed, epoch ms.
 */
at: Millis, 
/**
 * What kind.
 */
kind: ChangeKind, 
/**
 * The thing (its name), when it is about one.
 */
thing: string | null, 
/**
 * The thing's account, when known.
 */
account: string | null, 
/**
 * Its region, when known.
 */
region: string | null, 
/**
 * The key that opens it (the app's calls).
 */
key: string | null, 
/**
 * For people, one line.
 */
what: string, 
/**
 * The violation, finding or action it is about (id or `cache#seq`).
 */
id: string | null, 
/**
 * A finding's severity.
 */
severity: Severity | null, 
/**
 * A thing's triage score now.
 */
score: number | null, };

export type WatchView = { 
/**
 * Every configured source (none on the demo fleet).
 */
sources: Array<SourceWatchView>, 
/**
 * Changes not yet seen in the Changes list.
 */
unseen: number, 
/**
 * The interval between syncs of a source, ms.
 */
interval_ms: number, };

export type NotifyFilter = { 
/**
 * The triage score whose crossing (upwards) notifies, 0–100.
 */
min_score: number, 
/**
 * Finding severities that notify.
 */
severities: Array<Severity>, 
/**
 * A violation going into alarm notifies.
 */
alarms: boolean, 
/**
 * A colleague's action notifies.
 */
colleagues: boolean, };

export type SourceWatchView = { 
/**
 * Source name.
 */
source: string, 
/**
 * Paused by the analyst.
 */
paused: boolean, 
/**
 * The last sync the watcher ran.
 */
last_sync: Millis | null, 
/**
 * When it syncs next (none while paused).
 */
next_sync: Millis | null, 
/**
 * Failed syncs in a row.
 */
failures: number, 
/**
 * The last failure, said plainly.
 */
error: string | null, 
/**
 * Whether the service throttled it (it waits longer).
 */
throttled: boolean, };

export type WatchTick = { 
/**
 * Sources synced in this tick.
 */
synced: Array<string>, 
/**
 * What changed (empty when nothing did or nothing synced).
 */
changes: Array<WatchChange>, 
/**
 * The changes that pass the notification filter, coalesced into one line (none: notify
 * nothing).
 */
notify: string | null, };

export type LinkTarget = { 
/**
 * The thing (any characters AWS IoT allows, 1–128 bytes).
 */
thing: string, 
/**
 * Window start, epoch ms.
 */
from: Millis | null, 
/**
 * Window end, epoch ms.
 */
to: Millis | null, };

export type CaseState = "new" | "investigating" | "benign" | "compromised";

export type Case = { 
/**
 * Where it stands (`new` when never set).
 */
state: CaseState, 
/**
 * Who owns it.
 */
owner: string | null, 
/**
 * When the state was last set.
 */
updated: Millis | null, 
/**
 * Notes, oldest first.
 */
notes: Array<Note>, 
/**
 * Every state change, oldest first.
 */
history: Array<StateChange>, };

export type Note = { 
/**
 * When it was written, epoch ms.
 */
at: Millis, 
/**
 * Who wrote it (the OS user; for a note from Security Hub, its `UpdatedBy`).
 */
who: string, 
/**
 * The note.
 */
text: string, 
/**
 * `security-hub` for a colleague's note read back from Security Hub; `null` for this
 * cache's.
 */
origin: CaseOrigin | null, };

export type CaseOrigin = "security-hub";

export type StateChange = { 
/**
 * When, epoch ms.
 */
at: Millis, 
/**
 * Who (the OS user; for a change from Security Hub, the caller's identity there).
 */
who: string, 
/**
 * The state set.
 */
state: CaseState, 
/**
 * The owner after the change.
 */
owner: string | null, 
/**
 * `security-hub` for a colleague's change read back from Security Hub; `null` for this
 * cache's.
 */
origin: CaseOrigin | null, };

export type CaseRequest = { 
/**
 * Thing.
 */
thing: string, 
/**
 * The state.
 */
state: CaseState, 
/**
 * Owner; `null` keeps the current one.
 */
owner: string | null, };

export type NoteRequest = { 
/**
 * Thing.
 */
thing: string, 
/**
 * The note.
 */
text: string, };

export type FindingCaseRequest = { 
/**
 * Finding id.
 */
finding: string, 
/**
 * The state.
 */
state: CaseState, 
/**
 * Owner; `null` keeps the current one.
 */
owner: string | null, };

export type FindingNoteRequest = { 
/**
 * Finding id.
 */
finding: string, 
/**
 * The note.
 */
text: string, };

export type FindingState = { 
/**
 * Finding id.
 */
finding_id: string, 
/**
 * Its state.
 */
state: CaseState, 
/**
 * Its owner.
 */
owner: string | null, };

export type Verification = { 
/**
 * Whether all is well: the chain intact and, when an anchor is configured, the anchor
 * agreeing with it.
 */
ok: boolean, 
/**
 * Records checked.
 */
records: Count, 
/**
 * Every problem in the chain, with the sequence number it concerns.
 */
problems: Array<string>, 
/**
 * Whether the chain alone is intact.
 */
chain_ok: boolean, 
/**
 * Whether an anchor is configured.
 */
anchored: boolean, 
/**
 * Records in the anchor that the local log lacks (deleted, a cut tail).
 */
missing: Array<Count>, 
/**
 * Local records the anchor lacks: fabricated, or not sent yet (`ddesk actions anchor push`).
 */
extra: Array<Count>, 
/**
 * Records whose local content differs from the anchor's.
 */
altered: Array<Count>, 
/**
 * Records of which the anchor holds a second, different version.
 */
overwritten: Array<Count>, 
/**
 * Objects under this cache's anchor prefix that are no record (planted beside the log).
 */
unexpected: Array<string>, 
/**
 * Sequence numbers more than one anchored record claims.
 */
duplicate: Array<Count>, 
/**
 * Anchored records failing their own hash or chain link: planted, not the local log's fault.
 */
invalid: Array<Count>, 
/**
 * Records that reached the anchor more than a day after they were logged (a rewritten log
 * pushed afresh looks like this).
 */
late: Array<Count>, 
/**
 * The cache id the anchored log is kept under (a new id is a new identity).
 */
cache: string | null, 
/**
 * Why the anchor could not be read, if it could not.
 */
anchor_error: string | null, 
/**
 * What verification cannot see without an anchor.
 */
note?: string, };

export type SyncEvent = { "event": "source_started", 
/**
 * Source name.
 */
source: string, 
/**
 * Kind.
 */
kind: SourceKind, } | { "event": "progress", 
/**
 * Source name.
 */
source: string, 
/**
 * Units (objects, pages, slices) done.
 */
done: Count, 
/**
 * Units known in all (0 when unknown).
 */
total: Count, 
/**
 * Bytes fetched.
 */
bytes: Count, 
/**
 * Events or records read.
 */
events: Count, 
/**
 * Datapoints written.
 */
datapoints: Count, 
/**
 * Bytes per second so far.
 */
bytes_per_sec: number, 
/**
 * Estimated seconds left, when the total is known.
 */
eta_secs: number | null, } | { "event": "source_finished", 
/**
 * Source name.
 */
source: string, 
/**
 * Whether it finished without errors.
 */
ok: boolean, 
/**
 * The source-level error, if it failed as a whole.
 */
error: string | null, };

export type HealthStatus = "ok" | "warn" | "error";

export type Health = { 
/**
 * Ok, usable with a caveat, or not usable.
 */
status: HealthStatus, 
/**
 * What was found, plainly.
 */
message: string, 
/**
 * What to do about it, when something is to be done.
 */
hint: string | null, 
/**
 * The kind of failure (status `error`), typed where it arose.
 */
kind: SourceErrorKind | null, };

export type SourceErrorKind = "throttled" | "access_denied" | "not_subscribed" | "credentials" | "not_found" | "tls" | "network" | "stuck" | "data" | "service";

export type SyncFailure = { 
/**
 * Source name.
 */
source: string, 
/**
 * What kind of failure, typed where the error arose: the watch backs off, marks a source
 * throttled or stuck, from this — never from `error`'s text.
 */
kind: SourceErrorKind, 
/**
 * Object key (or task, window) when one unit failed.
 */
object: string | null, 
/**
 * What went wrong.
 */
error: string, };

export type SourceSummary = { 
/**
 * Source name.
 */
source: string, 
/**
 * Kind.
 */
kind: SourceKind, 
/**
 * Finished without errors.
 */
ok: boolean, 
/**
 * Objects (S3) fetched and read.
 */
objects_fetched: Count, 
/**
 * Bytes fetched.
 */
bytes: Count, 
/**
 * Splunk events or API records read.
 */
events: Count, 
/**
 * Listing requests made (S3 ListObjectsV2 pages): what a sync that brings nothing new
 * costs.
 */
list_calls: Count, 
/**
 * Datapoints written.
 */
datapoints: Count, 
/**
 * Violation events written.
 */
violation_events: Count, 
/**
 * Audit check results written.
 */
audit_checks: Count, 
/**
 * Audit findings written.
 */
audit_findings: Count, 
/**
 * Objects skipped: error-output prefixes, Firehose failure records.
 */
skipped: Count, 
/**
 * Already in the cache, not fetched again.
 */
unchanged: Count, 
/**
 * Records recovered from Firehose error outputs (`processing-failed`,
 * `format-conversion-failed`, `splunk-failed`), by kind.
 */
recovered: { [key in string]?: Count }, 
/**
 * Warnings (Detect unavailable, Splunk WARN messages).
 */
warnings: Array<string>, 
/**
 * Things a fleet screen where the data lies covered (Athena; 0 for other kinds).
 */
things_screened: Count, 
/**
 * Things the screen kept as candidates.
 */
candidates: Count, 
/**
 * Queries run where the data lies.
 */
queries: Count, 
/**
 * Bytes those queries scanned.
 */
bytes_scanned: Count, 
/**
 * What they cost (Athena: $5 per TB scanned, 10 MB at least per query).
 */
cost_usd: number, 
/**
 * Colleagues' changes read back from Security Hub into case history (states and notes).
 */
hub_changes: Count, };

export type Estimate = { 
/**
 * The Athena source.
 */
source: string, 
/**
 * The table's location.
 */
location: string, 
/**
 * Bytes each query scans.
 */
bytes_per_query: Count, 
/**
 * Queries it runs (a screen 3, a drill-down 1).
 */
queries: number, 
/**
 * What they cost at $5 per TB, 10 MB at least each.
 */
cost_usd: number, 
/**
 * The source's limit per query.
 */
max_scan_bytes: Count, 
/**
 * Above the limit: the engine refuses to run it.
 */
refused: boolean, };

export type SyncSummary = { 
/**
 * S3 objects fetched.
 */
objects_fetched: Count, 
/**
 * Datapoints written.
 */
datapoints: Count, 
/**
 * Violation events written.
 */
violation_events: Count, 
/**
 * Audit findings written.
 */
audit_findings: Count, 
/**
 * Objects skipped (error outputs).
 */
skipped: Count, 
/**
 * Everything that failed.
 */
errors: Array<SyncFailure>, 
/**
 * Whether the sync was cancelled.
 */
cancelled: boolean, 
/**
 * Per source.
 */
sources: Array<SourceSummary>, };

export const SEVERITIES: readonly Severity[] = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];

export const VERIFICATION_STATES: readonly VerificationState[] = ["FALSE_POSITIVE", "BENIGN_POSITIVE", "TRUE_POSITIVE", "UNKNOWN"];
