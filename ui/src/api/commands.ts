// Generated from desk_engine::app::commands (with_commands!); do not edit.
// Regenerate: UPDATE_BINDINGS=1 cargo test -p desk-engine --test it bindings
// What is cached, and for how long, is the query cache's business (api/queries.ts).
import type { ActionRequest, ActionView, AuditPage, Case, CaseRequest, ChartRequest, ChartView, DemoAccount, Estimate, FindingCaseRequest, FindingNoteRequest, Fleet, Health, HistoryView, LinkTarget, Look, Millis, MitigationFor, NoteRequest, NotifyFilter, OutcomeView, PlanView, Saved, SourceInput, SourceSummary, SourceView, Status, SyncSummary, ThingPage, ThingRequest, Verification, WatchChange, WatchView } from "../bindings";
import { call } from "./client";

export const api = {
  /** Which cache is shown and what it holds. */
  status: () => call<Status>("status"),
  /**
   * Which simulated account the demo shows (with Detect, or device reports and
   * lifecycle events only); the status after the switch.
   */
  setDemoAccount: (account: DemoAccount) => call<Status>("set_demo_account", { account }),
  /** The shown cache's size, span and *keep raw points* setting. */
  history: () => call<HistoryView>("history"),
  /**
   * Keeps raw points this many days (null: all); older days become exact
   * hourly aggregates, in the background.
   */
  setKeepRaw: (days: number | null) => call<HistoryView>("set_keep_raw", { days }),
  /** A thing's investigation (state, owner, notes). */
  case: (thing: string) => call<Case>("case", { thing }),
  /** Sets a thing's investigation state (owner null keeps the current one). */
  setCase: (req: CaseRequest) => call<Case>("set_case", { req }),
  /** Adds a note (who and when are recorded by the engine). */
  addCaseNote: (req: NoteRequest) => call<Case>("add_case_note", { req }),
  /** An audit finding's investigation (state, owner, notes). */
  findingCase: (finding: string) => call<Case>("finding_case", { finding }),
  /** Sets an audit finding's investigation state (owner null keeps the current one). */
  setFindingCase: (req: FindingCaseRequest) => call<Case>("set_finding_case", { req }),
  /** Adds a note to an audit finding's investigation. */
  addFindingNote: (req: FindingNoteRequest) => call<Case>("add_finding_note", { req }),
  /** The fleet ranked for triage over the last `window_ms`. */
  fleet: (windowMs: Millis) => call<Fleet>("fleet", { windowMs }),
  /** One thing's page: charts, timeline, violations, drift. */
  thing: (req: ThingRequest) => call<ThingPage>("thing", { req }),
  /** One metric's chart. */
  chart: (req: ChartRequest) => call<ChartView>("chart", { req }),
  /** Saves a chart as PNG. */
  exportChartPng: (req: ChartRequest) => call<Saved>("export_chart_png", { req }),
  /** Saves a thing's datapoints as CSV (formula-safe). */
  exportCsv: (thing: string, from: Millis, to: Millis) => call<Saved>("export_csv", { thing, from, to }),
  /** Saves the incident report of a thing. */
  report: (req: ThingRequest) => call<Saved>("report", { req }),
  /** Audit findings and check history in a window. */
  audit: (from: Millis, to: Millis, look: Look) => call<AuditPage>("audit", { from, to, look }),
  /** The action log, newest first, each record judged. */
  actions: () => call<Array<ActionView>>("actions"),
  /** The action log's chain checked, record by record. */
  verifyActions: () => call<Verification>("verify_actions"),
  /** Saves the action log as CSV. */
  exportActionsCsv: () => call<Saved>("export_actions_csv"),
  /** The configured sources. */
  sources: () => call<Array<SourceView>>("sources"),
  /** Adds a source (its secret to the OS keychain). */
  addSource: (input: SourceInput) => call<SourceView>("add_source", { input }),
  /** Removes a source and its secret. */
  removeSource: (name: string) => call<null>("remove_source", { name }),
  /**
   * Checks a source's connection: its health (ok, warn or error), a message and
   * what to do.
   */
  testSource: (name: string) => call<Health>("test_source", { name }),
  /** What a screen of each Athena source would scan and cost, before a sync. */
  screenEstimates: () => call<Array<Estimate>>("screen_estimates"),
  /**
   * The Athena sources whose screen named a thing, with what reading its full
   * history would cost.
   */
  drillOffers: (thing: string) => call<Array<Estimate>>("drill_offers", { thing }),
  /** Reads one thing's full history from a source into the cache. */
  drillDown: (thing: string, source: string) => call<SourceSummary>("drill_down", { thing, source }),
  /** Stops the running sync; false when none runs. */
  cancelSync: () => call<boolean>("cancel_sync"),
  /**
   * The account's mitigation actions usable on a violation or a finding (a call
   * to AWS on a real account; api/queries.ts keeps the answer a minute).
   */
  mitigationActions: (target: MitigationFor) => call<Array<string>>("mitigation_actions", { target }),
  /** Each source's last and next scheduled sync, and the unseen changes. */
  watch: () => call<WatchView>("watch"),
  /** What changed at each scheduled sync, newest first. */
  changes: () => call<Array<WatchChange>>("changes"),
  /** Marks every change seen. */
  markChangesSeen: () => call<null>("mark_changes_seen"),
  /** Pauses or resumes a source's scheduled syncs. */
  pauseSource: (name: string, paused: boolean) => call<WatchView>("pause_source", { name, paused }),
  /** What the analyst wants a desktop notification for. */
  notifyFilter: () => call<NotifyFilter>("notify_filter"),
  /** Sets the notification filter. */
  setNotifyFilter: (filter: NotifyFilter) => call<NotifyFilter>("set_notify_filter", { filter }),
  /** Plans an action: what would change, the reason asked for, nothing done yet. */
  planAction: (req: ActionRequest) => call<PlanView>("plan_action", { req }),
  /** The OS deep link to a thing (and window), for Copy link. */
  thingLink: (thing: string, from: Millis | null, to: Millis | null) => call<string>("thing_link", { thing, from, to }),
  /** Syncs every source, with progress as `sync-progress` events. */
  sync: () => call<SyncSummary>("sync"),
  /**
   * Executes a confirmed plan with its reason; the outcome also goes out as an
   * `action-result` event.
   */
  executeAction: (planId: string, reason: string) => call<OutcomeView>("execute_action", { planId, reason }),
  /** The thing the app was started with a link to, if any (asked once). */
  pendingLink: () => call<LinkTarget | null>("pending_link"),
};
