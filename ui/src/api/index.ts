// The UI's door to the engine: commands (api/commands.ts), events (api/events.ts), errors
// (api/client.ts) and the query cache over the commands (api/queries.ts).
export { AppError } from "./client";
export { api } from "./commands";
export { onActionResult, onNavigate, onNotified, onSyncProgress, onWatch } from "./events";
export { queries, queryClient, useWrite } from "./queries";
