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
  unexpected: [],
  duplicate: [],
  invalid: [],
  late: [],
  cache: "0123456789abcdef",
  anchor_error: null,
};

describe("verdict", () => {
  it("says the anchor agrees, or that there is none", () => {
    expect(verdict(base)).toBe("Chain intact (4 records); the anchor agrees (anchored as cache 0123456789abcdef)");
    expect(verdict({ ...base, anchored: false, note: "no anchor" })).toMatch(/^Chain intact \(4 records\); no anchor/);
  });
  it("names what the anchor disagrees on even when the chain is intact (a rewritten chain)", () => {
    const v = verdict({ ...base, ok: false, missing: [3], altered: [2] });
    expect(v).toBe(
      "Chain intact (4 records); the anchor disagrees (anchored as cache 0123456789abcdef) — missing from this log: 3; altered: 2",
    );
  });
  it("names planted and sidestepping objects apart from the log's own differences, and late records", () => {
    const v = verdict({ ...base, ok: false, unexpected: ["p/c/1.json"], duplicate: [1], invalid: [9], late: [2] });
    expect(v).toContain("objects beside the log that are no record: p/c/1.json");
    expect(v).toContain("sequences claimed twice: 1");
    expect(v).toContain("planted records (their hash or link does not hold; not this log's fault): 9");
    expect(v).toMatch(/reached the anchor over a day after they were logged: 2$/);
  });
  it("says a broken chain and an unreadable anchor", () => {
    const v = verdict({ ...base, ok: false, chain_ok: false, problems: ["seq 2: hash mismatch"], anchor_error: "AccessDenied" });
    expect(v).toBe("Chain broken: seq 2: hash mismatch; anchor not read: AccessDenied");
  });
});
