import { connectionKeepAlive } from "./connection-keep-alive";

/** Every Inngest function of the app: served by app/api/inngest, run inline by the inline runner. */
export const functions = [connectionKeepAlive];
