// The UI's door to the engine: commands (api/commands.ts), events (api/events.ts), errors
// (api/client.ts).
export { AppError } from "./client";
export { api } from "./commands";
export { onActionResult, onNavigate, onNotified, onSyncEvent, onWatch } from "./events";
