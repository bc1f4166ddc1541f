// The hooks the screens share, one per file.
export { useDialog } from "./useDialog";
export { type KeyRegistry, type Keys, useKeys } from "./useKeys";
export { useMitigationActions } from "./useMitigationActions";
export { useEngineEvents, useWatch } from "./useWatch";
