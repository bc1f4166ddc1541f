// Regression (#30): a running mitigation (`Outcome::Unknown`) read "Failed", because the dialog
// compared the outcome's sentence with "succeeded". The label comes from the typed state.
import { describe, expect, it } from "vitest";
import { outcomeLabel } from "./ActionDialog";

describe("outcomeLabel", () => {
  it("names each kind of outcome, a running task as not known yet, never as failed", () => {
    expect(outcomeLabel({ kind: "succeeded", reconciled: false, why: null })).toBe("Done");
    expect(outcomeLabel({ kind: "failed", reconciled: false, why: "AccessDenied" })).toBe("Failed");
    const running = outcomeLabel({ kind: "unknown", reconciled: false, why: "task IN_PROGRESS" });
    expect(running).not.toMatch(/Failed/);
    expect(running).toBe("Still running — not known yet");
    expect(outcomeLabel({ kind: "failed", reconciled: true, why: null })).toBe("Failed (reconciled)");
    expect(outcomeLabel({ kind: "pending", reconciled: false, why: null })).toBe("Pending");
  });
});
