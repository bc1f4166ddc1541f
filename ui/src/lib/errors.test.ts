import { describe, expect, it } from "vitest";
import { AppError } from "../api/client";
import { errorView } from "./errors";

describe("errorView", () => {
  it("branches on the error's kind, never on its text", () => {
    // A message that reads like another kind does not change the view.
    const missing = errorView(new AppError({ kind: "not_found", message: "source unavailable: no thing cam-9" }));
    expect(missing.title).toBe("Not in this cache");
    expect(missing.retry).toBe(false);
    const down = errorView(new AppError({ kind: "source", message: "no thing here" }));
    expect(down.title).toBe("Source unavailable");
    expect(down.retry).toBe(true);
    expect(errorView(new AppError({ kind: "invalid_input", message: "bad name" })).retry).toBe(false);
  });

  it("keeps the engine's message and shows anything else as a retryable failure", () => {
    expect(errorView(new AppError({ kind: "not_found", message: "no thing cam-9" })).detail).toContain("no thing cam-9");
    const odd = errorView("boom");
    expect(odd).toEqual({ title: "Something went wrong", detail: "boom", retry: true });
  });
});
