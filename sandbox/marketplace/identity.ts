// The demo marketplace's identity and its reseller users.
export const MARKETPLACE_ID = "demo-marketplace";
export const LAUNCH_AUDIENCE = "sage-connector";

export const MARKETPLACE_ACCOUNT = { id: "RES-1001", name: "Northwind Cloud Reseller" } as const;

export interface ResellerAccount {
  id: string;
  name: string;
}

/**
 * The reseller account a portal or store page acts for: RES-1001 by default; `?account=RES-…`
 * (letters, digits, dashes) simulates another reseller of the same marketplace.
 */
export function resellerAccount(id: string | undefined, name: string | undefined): ResellerAccount {
  const wanted = (id ?? "").trim();
  if (!wanted || wanted === MARKETPLACE_ACCOUNT.id || !/^[A-Za-z0-9-]{1,40}$/.test(wanted)) return { ...MARKETPLACE_ACCOUNT };
  const cleanName = (name ?? "").trim().slice(0, 80);
  return { id: wanted, name: cleanName || `Reseller ${wanted}` };
}

export interface PortalUser {
  email: string;
  name: string;
  role: string;
}

export const PORTAL_USERS: PortalUser[] = [
  { email: "admin@northwind.test", name: "Nora Admin", role: "admin" },
  { email: "ops@northwind.test", name: "Oscar Ops", role: "admin" },
];

export const DEFAULT_PORTAL_USER = "admin@northwind.test";

export function portalUser(email: string | undefined): PortalUser {
  const wanted = (email ?? DEFAULT_PORTAL_USER).trim().toLowerCase();
  const known = PORTAL_USERS.find((u) => u.email === wanted);
  if (known) return known;
  const local = wanted.split("@")[0] ?? wanted;
  const name = local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join(" ");
  return { email: wanted, name: name || wanted, role: "admin" };
}
