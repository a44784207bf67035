import { connectionKeepAlive } from "./connection-keep-alive";
import { connectionTest } from "./connection-test";
import { marketplaceEventReceivedFn } from "./marketplace-event-received";

/** Every Inngest function of the app: served by app/api/inngest, run inline by the inline runner. */
export const functions = [
  connectionKeepAlive,
  connectionTest,
  marketplaceEventReceivedFn,
];
