import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { connections } from "@/db/schema";
import { getConnectionOverview } from "@/lib/connections/overview";
import { refreshLapseWarning } from "@/lib/connections/refresh-lapse";
import { testSageConnection } from "@/lib/connections/test-connection";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

const DAY = 24 * 3600 * 1000;

describe("Warning before Sage's refresh token lapses from inactivity", () => {
  it("warns within 7 days of the lapse, with whole days left; not before; not without a token", () => {
    const now = new Date("2026-12-03T12:00:00Z");
    expect(refreshLapseWarning(new Date(now.getTime() + 8 * DAY), now)).toBeNull();
    expect(refreshLapseWarning(new Date(now.getTime() + 7 * DAY + 1000), now)).toBeNull();
    expect(refreshLapseWarning(new Date(now.getTime() + 7 * DAY), now)).toEqual({ at: "2026-12-10T12:00:00.000Z", daysLeft: 7 });
    expect(refreshLapseWarning(new Date(now.getTime() + 3.5 * DAY), now)).toEqual({ at: "2026-12-07T00:00:00.000Z", daysLeft: 3 });
    expect(refreshLapseWarning(new Date(now.getTime() - DAY), now)).toEqual({ at: "2026-12-02T12:00:00.000Z", daysLeft: 0 });
    expect(refreshLapseWarning(null, now)).toBeNull();
  });

  describe("against the sandbox's Sage", () => {
    let sw: SyncWorld;
    beforeAll(async () => {
      sw = await startSyncWorld();
    });
    afterAll(async () => sw?.close());

    it("the dashboard overview carries the warning; Keep connected (the connection test) refreshes the token and the warning goes", async () => {
      expect((await getConnectionOverview(sw.db, sw.world.tenantId))!.refreshLapse).toBeNull();
      // as if the keep-alive had not run for 28 days: the refresh token has 3 days left
      const lapsesAt = new Date(Date.now() + 3 * DAY + 3600_000);
      await sw.db.update(connections).set({ refreshTokenExpiresAt: lapsesAt, refreshTokenIssuedAt: new Date(lapsesAt.getTime() - 31 * DAY) }).where(eq(connections.id, sw.connectionId));
      expect((await getConnectionOverview(sw.db, sw.world.tenantId))!.refreshLapse).toEqual({ at: lapsesAt.toISOString(), daysLeft: 3 });
      await sw.world.clearRequestLog();

      const result = await testSageConnection(sw.db, { tenantId: sw.world.tenantId, connectionId: sw.connectionId, actor: sw.world.actor });
      expect(result.ok).toBe(true);
      // a refresh_token grant reached Sage, though the access token was still valid
      expect((await sw.world.requestLog()).filter((l) => l.grant_type === "refresh_token")).toHaveLength(1);
      const [row] = await sw.db.select().from(connections).where(eq(connections.id, sw.connectionId));
      expect(Math.round((row!.refreshTokenExpiresAt!.getTime() - Date.now()) / DAY)).toBe(31);
      expect((await getConnectionOverview(sw.db, sw.world.tenantId))!.refreshLapse).toBeNull();

      // with a month left, the test does not refresh
      await sw.world.clearRequestLog();
      expect((await testSageConnection(sw.db, { tenantId: sw.world.tenantId, connectionId: sw.connectionId, actor: sw.world.actor })).ok).toBe(true);
      expect((await sw.world.requestLog()).filter((l) => l.grant_type === "refresh_token")).toHaveLength(0);
    });
  });
});
