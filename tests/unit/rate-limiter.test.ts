import { describe, expect, it } from "vitest";
import { SlidingWindowLimiter } from "@/lib/sage/rate-limiter";

describe("SlidingWindowLimiter", () => {
  it("admits `limit` calls per window and reuses a slot only after the window plus the margin", async () => {
    const limiter = new SlidingWindowLimiter(3, 200, Date.now, 50);
    const started = Date.now();
    const admitted: number[] = [];
    await Promise.all(Array.from({ length: 7 }, async () => {
      await limiter.acquire("conn");
      admitted.push(Date.now() - started);
    }));
    admitted.sort((a, b) => a - b);
    expect(admitted.slice(0, 3).every((t) => t < 40)).toBe(true);
    expect(admitted[3]).toBeGreaterThanOrEqual(245);
    expect(admitted[6]).toBeGreaterThanOrEqual(490);
    // never more than 3 admissions inside any 200 ms window
    for (let i = 3; i < admitted.length; i++) expect(admitted[i]! - admitted[i - 3]!).toBeGreaterThanOrEqual(200);
  });

  it("keys are independent", async () => {
    const limiter = new SlidingWindowLimiter(1, 1_000, Date.now, 50);
    const started = Date.now();
    await Promise.all([limiter.acquire("a"), limiter.acquire("b")]);
    expect(Date.now() - started).toBeLessThan(100);
  });
});
