export * from "./tenants";
export * from "./users";
export * from "./installations";
export * from "./auth";
export * from "./connections";
export * from "./settings";
export * from "./action-log";
export * from "./inline-runs";
