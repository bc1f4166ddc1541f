// The Actions screen's verdict says what the chain and the anchor found, in one line.
import { describe, expect, it } from "vitest";
import type { Verification } from "../bindings";
import { verdict } from "./Actions";

const base: Verification = {
  ok: true,
  records: 4,
  problems: [],
  chain_ok: true,
  anchored: true,
  missing: [],
  extra: [],
  altered: [],
  overwritten: [],
  anchor_error: null,
};

describe("verdict", () => {
  it("says the anchor agrees, or that there is none", () => {
    expect(verdict(base)).toBe("Chain intact (4 records); the anchor agrees");
    expect(verdict({ ...base, anchored: false, note: "no anchor" })).toMatch(/^Chain intact \(4 records\); no anchor/);
  });
  it("names what the anchor disagrees on even when the chain is intact (a rewritten chain)", () => {
    const v = verdict({ ...base, ok: false, missing: [3], altered: [2] });
    expect(v).toBe("Chain intact (4 records); the anchor disagrees — missing from this log: 3; altered: 2");
  });
  it("says a broken chain and an unreadable anchor", () => {
    const v = verdict({ ...base, ok: false, chain_ok: false, problems: ["seq 2: hash mismatch"], anchor_error: "AccessDenied" });
    expect(v).toBe("Chain broken: seq 2: hash mismatch; anchor not read: AccessDenied");
  });
});
