import { describe, expect, it } from "vitest";
import { businessDate, businessTimeZone } from "@/lib/sync/business-date";

describe("invoice dates are the business's calendar day", () => {
  it("London in summer time: 23:30 UTC is already the next day", () => {
    expect(businessDate("Europe/London", new Date("2026-07-01T23:30:00Z"))).toBe("2026-07-02");
    expect(businessDate("Europe/London", new Date("2026-12-03T23:30:00Z"))).toBe("2026-12-03");
  });
  it("a US business is still on the previous day when UTC has moved on", () => {
    expect(businessDate("America/New_York", new Date("2026-12-04T02:00:00Z"))).toBe("2026-12-03");
  });
  it("the zone follows the business country; an override must be a real IANA zone", () => {
    expect(businessTimeZone("ie", "")).toBe("Europe/Dublin");
    expect(businessTimeZone("GB", "")).toBe("Europe/London");
    expect(businessTimeZone("GB", "America/Vancouver")).toBe("America/Vancouver");
    expect(businessTimeZone("GB", "Mars/Olympus")).toBe("Europe/London");
  });
});
