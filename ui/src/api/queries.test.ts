// The query cache keeps what the hand-built caches kept, and no more: a thing's page asked for
// on the click is the one its screen takes; a change made through the app makes it stale; the
// mitigation actions are asked at most once a minute and a failure is never kept.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (cmd: string, args?: unknown) => invoke(cmd, args) }));

const { queries, queryClient, writeOptions } = await import("./queries");
const { MutationObserver } = await import("@tanstack/react-query");

const req = { thing: "cam-1", from: null, to: null, look: { width: 620, height: 230, tz: "UTC", theme: "dark" as const, scale: 1 } };

describe("query cache", () => {
  beforeEach(() => {
    queryClient.clear();
    invoke.mockReset();
  });
  afterEach(() => vi.useRealTimers());

  it("gives the thing screen the page asked for on the click, once", async () => {
    invoke.mockResolvedValue({ thing: "cam-1" });
    await queryClient.prefetchQuery(queries.thing(req));
    const page = await queryClient.fetchQuery(queries.thing(req));
    expect(page).toEqual({ thing: "cam-1" });
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(invoke).toHaveBeenCalledWith("thing", { req });
    // Another window is another question.
    await queryClient.fetchQuery(queries.thing({ ...req, from: 1, to: 2 }));
    expect(invoke).toHaveBeenCalledTimes(2);
  });

  it("asks again after a change made through the app", async () => {
    invoke.mockResolvedValueOnce({ quarantined: false }).mockResolvedValueOnce({ quarantined: true });
    await queryClient.fetchQuery(queries.thing(req));
    await queryClient.invalidateQueries();
    expect(await queryClient.fetchQuery(queries.thing(req))).toEqual({ quarantined: true });
  });

  it("asks for the mitigation actions at most once a minute and never keeps a failure", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_000_000);
    invoke.mockRejectedValueOnce({ kind: "aws", message: "throttled" }).mockResolvedValue(["BlockIt"]);
    await expect(queryClient.fetchQuery(queries.mitigationActions("violation"))).rejects.toThrow("throttled");
    expect(await queryClient.fetchQuery(queries.mitigationActions("violation"))).toEqual(["BlockIt"]);
    vi.setSystemTime(1_000_000 + 59_000);
    await queryClient.fetchQuery(queries.mitigationActions("violation"));
    expect(invoke).toHaveBeenCalledTimes(2);
    vi.setSystemTime(1_000_000 + 61_000);
    await queryClient.fetchQuery(queries.mitigationActions("violation"));
    expect(invoke).toHaveBeenCalledTimes(3);
    // Findings' actions are their own question.
    await queryClient.fetchQuery(queries.mitigationActions("finding"));
    expect(invoke).toHaveBeenLastCalledWith("mitigation_actions", { target: "finding" });
  });

  it("makes every answer stale after a write that succeeded, and none after one that failed", async () => {
    invoke.mockResolvedValue({ thing: "cam-1" });
    await queryClient.fetchQuery(queries.thing(req));
    const stale = () => queryClient.getQueryState(queries.thing(req).queryKey)?.isInvalidated;
    const write = new MutationObserver(queryClient, writeOptions<string>());
    await expect(write.mutate(() => Promise.reject(new Error("denied")))).rejects.toThrow("denied");
    expect(write.getCurrentResult().error?.message).toBe("denied");
    expect(stale()).toBe(false);
    await write.mutate(() => Promise.resolve("ok"));
    expect(write.getCurrentResult().data).toBe("ok");
    expect(stale()).toBe(true);
  });
});
