// Sage 50 Cloud (Connected Cloud file exchange) simulator: every route under /sage50 (logged,
// fault-injectable by name "sage50.*") and its control routes.
import type { Route } from "../router";
import { apiKeyRoutes } from "./apikeys";
import { desktopRoutes } from "./desktop";
import { fileRoutes } from "./files";
import { fail } from "./replies";
import { registrationRoutes } from "./registration";
import { uploadRoutes } from "./uploads";

export { sage50ControlRoutes } from "./control";
export { AppCaller } from "./calls";
export { Sage50World, type Sage50Snapshot } from "./state";
export type { Sage50Config } from "./config";

/** Anything else under /sage50/api → a JSON 404 (logged as "sage50.not_found"). */
const apiNotFound: Route = {
  match: (_method, path) =>
    path === "/sage50/api" || path.startsWith("/sage50/api/")
      ? { name: "sage50.not_found", params: {}, control: false, handler: () => fail(404, "not_found") }
      : null,
};

export const sage50Routes: Route[] = [...registrationRoutes, ...desktopRoutes, ...apiKeyRoutes, ...fileRoutes, ...uploadRoutes, apiNotFound];
