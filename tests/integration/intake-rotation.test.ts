import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkChanges } from "@/lib/marketplace/check-changes";
import { receiveMarketplaceWebhook } from "@/lib/marketplace/webhook-intake";
import { orderEvent, orderFixture, signed } from "./intake-helpers";
import { startWorld, type World } from "../helpers/world";

describe("webhook secret rotation", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    await world.install(); // registers with the sandbox marketplace and stores its secret
  });
  afterAll(async () => world?.close());

  it("after the marketplace rotates its secret, Check Changes picks the new one up and deliveries verify again", async () => {
    const installationId = (await world.install()).installation.id;
    const rotated = (await world.control("marketplace/rotate-webhook-secret", { account_id: "RES-1001" })) as { secret?: string; webhook_secret?: string };
    await world.control("marketplace/end-rotation", { account_id: "RES-1001" });
    const secret = rotated.webhook_secret ?? rotated.secret!;
    expect(secret).toMatch(/^whsec_/);
    const deliver = () => {
      const req = signed(secret, orderEvent(orderFixture()));
      return receiveMarketplaceWebhook(world.db.db, { installationId, headers: req.headers, body: req.body }, { enqueue: async () => {} });
    };
    expect((await deliver()).status).toBe(401);
    await checkChanges(world.db.db, { tenantId: world.tenantId, actor: world.actor });
    expect((await deliver()).status).toBe(202);
  });
});
