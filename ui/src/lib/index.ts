// Pure UI logic (tested with vitest): preferences and time ranges, time zones, routes and deep
// links, the triage filter, keys, chart geometry and number formats.
export * from "./chart";
export * from "./fleet";
export * from "./format";
export * from "./keys";
export * from "./prefs";
export * from "./route";
export * from "./time";
export * from "./errors";
