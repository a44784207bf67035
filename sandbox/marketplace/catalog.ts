// Seed data of a reseller account in the simulated marketplace: catalog (products, fees) and
// customers. Deterministic: the same account id always gets the same ids, names and prices.
import { createHash } from "node:crypto";

export type BillingPeriod = "monthly" | "yearly" | "one_time";
export type ProductType = "item" | "fee";

/** A vendor product family (Connect's asset.product: "CN-…"). */
export interface ProductFamily {
  id: string;
  name: string;
}

export const FAMILIES = {
  m365: { id: "CN-783-317-575", name: "Microsoft 365" },
  backup: { id: "CN-214-905-118", name: "Cloud Backup" },
  hardware: { id: "CN-560-771-302", name: "Security Hardware" },
  fees: { id: "CN-100-000-001", name: "Marketplace Fees" },
  generated: { id: "CN-999-000-001", name: "Generated Catalog" },
} as const satisfies Record<string, ProductFamily>;

export interface ProductSeed {
  mpn: string;
  name: string;
  description: string;
  /** Price in the account's catalog currency (GBP). */
  gbp: string;
  /** The same product on the EUR price list (orders of EUR customers are priced in EUR). */
  eur: string;
  billing_period: BillingPeriod;
  type: ProductType;
  fee_kind: "cancellation" | null;
  family: ProductFamily;
  /** Billed on usage (billing requests), not per seat. */
  usage?: boolean;
}

export const PRODUCT_SEEDS: ProductSeed[] = [
  { mpn: "M365-BASIC-M", name: "Microsoft 365 Business Basic (monthly)", description: "Web and mobile Office apps, Exchange mailbox, 1 TB OneDrive", gbp: "5.10", eur: "5.90", billing_period: "monthly", type: "item", fee_kind: null, family: FAMILIES.m365 },
  { mpn: "M365-BASIC-Y", name: "Microsoft 365 Business Basic (yearly)", description: "Web and mobile Office apps, Exchange mailbox, 1 TB OneDrive; annual commitment", gbp: "56.10", eur: "64.90", billing_period: "yearly", type: "item", fee_kind: null, family: FAMILIES.m365 },
  { mpn: "M365-STANDARD-M", name: "Microsoft 365 Business Standard (monthly)", description: "Desktop Office apps, Exchange mailbox, Teams webinars, 1 TB OneDrive", gbp: "10.30", eur: "11.70", billing_period: "monthly", type: "item", fee_kind: null, family: FAMILIES.m365 },
  { mpn: "M365-STANDARD-Y", name: "Microsoft 365 Business Standard (yearly)", description: "Desktop Office apps, Exchange mailbox, Teams webinars, 1 TB OneDrive; annual commitment", gbp: "113.30", eur: "128.70", billing_period: "yearly", type: "item", fee_kind: null, family: FAMILIES.m365 },
  { mpn: "M365-PREMIUM-M", name: "Microsoft 365 Business Premium (monthly)", description: "Business Standard plus Intune, Entra ID P1 and Defender for Business", gbp: "18.10", eur: "20.60", billing_period: "monthly", type: "item", fee_kind: null, family: FAMILIES.m365 },
  { mpn: "M365-PREMIUM-Y", name: "Microsoft 365 Business Premium (yearly)", description: "Business Standard plus Intune, Entra ID P1 and Defender for Business; annual commitment", gbp: "199.10", eur: "226.60", billing_period: "yearly", type: "item", fee_kind: null, family: FAMILIES.m365 },
  { mpn: "BACKUP-50GB", name: "Cloud Backup 50 GB", description: "Managed cloud backup for servers and workstations, 50 GB storage block", gbp: "4.00", eur: "4.60", billing_period: "monthly", type: "item", fee_kind: null, family: FAMILIES.backup },
  { mpn: "BACKUP-OVERAGE-GB", name: "Cloud Backup storage overage (per GB)", description: "Storage used above the subscribed blocks, billed monthly in arrears", gbp: "0.05", eur: "0.06", billing_period: "monthly", type: "item", fee_kind: null, family: FAMILIES.backup, usage: true },
  { mpn: "YUBIKEY-5", name: "YubiKey 5 NFC", description: "Hardware security key (FIDO2/U2F, NFC), shipped to the customer", gbp: "45.00", eur: "52.00", billing_period: "one_time", type: "item", fee_kind: null, family: FAMILIES.hardware },
  { mpn: "FEE-CANCEL", name: "Early cancellation fee", description: "Charged when a subscription is cancelled before the end of its term", gbp: "25.00", eur: "29.00", billing_period: "one_time", type: "fee", fee_kind: "cancellation", family: FAMILIES.fees },
];

export interface CustomerSeed {
  name: string;
  email: string;
  contact_name: string;
  phone: string;
  line1: string;
  city: string;
  postal_code: string;
  country: string;
  currency: "GBP" | "EUR";
  /** VAT registration number, for business customers that have one */
  tax_id?: string;
}

export const CUSTOMER_SEEDS: CustomerSeed[] = [
  { name: "Contoso Ltd", email: "billing@contoso.example", contact_name: "Chris Contoso", phone: "+44 20 7946 0000", line1: "1 High St", city: "London", postal_code: "EC1A 1AA", country: "GB", currency: "GBP" },
  { name: "Fabrikam Ireland Ltd", email: "accounts@fabrikam.example", contact_name: "Fiona Byrne", phone: "+353 1 555 0100", line1: "12 Grand Canal Quay", city: "Dublin", postal_code: "D02 X576", country: "IE", currency: "EUR", tax_id: "IE9876543WH" },
  { name: "Northwind Traders Ltd", email: "finance@northwind-traders.example", contact_name: "Nancy Davolio", phone: "+44 161 496 0123", line1: "44 Deansgate", city: "Manchester", postal_code: "M3 2BW", country: "GB", currency: "GBP" },
  { name: "Adatum GmbH", email: "rechnung@adatum.example", contact_name: "Anna Becker", phone: "+49 30 901820", line1: "Friedrichstraße 68", city: "Berlin", postal_code: "10117", country: "DE", currency: "EUR", tax_id: "DE812345678" },
  { name: "Tailspin Toys Ltd", email: "ap@tailspintoys.example", contact_name: "Tom Spencer", phone: "+44 117 496 0456", line1: "9 Queen Square", city: "Bristol", postal_code: "BS1 4JQ", country: "GB", currency: "GBP" },
  { name: "Litware SAS", email: "factures@litware.example", contact_name: "Louise Martin", phone: "+33 1 70 36 00 00", line1: "25 rue de la Paix", city: "Paris", postal_code: "75002", country: "FR", currency: "EUR", tax_id: "FR12345678901" },
  { name: "Woodgrove Bank plc", email: "suppliers@woodgrove.example", contact_name: "Will Grove", phone: "+44 131 496 0789", line1: "3 St Andrew Sq", city: "Edinburgh", postal_code: "EH2 2BD", country: "GB", currency: "GBP", tax_id: "GB987654321" },
  { name: "Proseware Ltd", email: "invoices@proseware.example", contact_name: "Priya Shah", phone: "+44 113 496 0321", line1: "7 Park Row", city: "Leeds", postal_code: "LS1 5HD", country: "GB", currency: "GBP" },
];

/** Seed records pretend to exist since before the plugin was installed. */
export const SEED_CREATED_MS = Date.parse("2026-01-05T09:00:00Z");
export const DAY_MS = 24 * 3600 * 1000;

export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9-]{1,40}$/;

/**
 * The number used in an account's ids: "RES-1001" → "1001" (letters, dash, 4 digits);
 * any other account id → 4 digits derived from its hash.
 */
export function accountNumber(accountId: string): string {
  const m = /^[A-Za-z]+-(\d{4})$/.exec(accountId);
  if (m?.[1]) return m[1];
  const h = createHash("sha256").update(`marketplace-account:${accountId}`).digest();
  return String(1000 + (h.readUInt32BE(0) % 9000));
}

export function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** ISO 8601, UTC, second precision ("2026-11-20T09:00:05Z"), like Connect. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

export function truncSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** Small deterministic PRNG (mulberry32) for the generators. */
export function prng(seed: string): () => number {
  let a = createHash("sha256").update(seed).digest().readUInt32BE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GEN_WORDS = ["Secure", "Cloud", "Managed", "Pro", "Business", "Enterprise", "Team", "Edge", "Vault", "Sync", "Mail", "Voice", "Desk", "Shield", "Insight"];
const GEN_NOUNS = ["Backup", "Firewall", "Mailbox", "Storage", "Licence", "Support", "Monitoring", "Phone System", "VPN", "Archive", "Endpoint", "Analytics"];

/** The n-th generated catalog product (for the 10,000-product benchmark); deterministic. */
export function generatedProductSeed(n: number): ProductSeed {
  const rnd = prng(`generated-product:${n}`);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const period: BillingPeriod = rnd() < 0.7 ? "monthly" : rnd() < 0.7 ? "yearly" : "one_time";
  const gbp = (1 + Math.floor(rnd() * 20000) / 100).toFixed(2);
  const eur = (Number(gbp) * 1.16).toFixed(2);
  const name = `${pick(GEN_WORDS)} ${pick(GEN_NOUNS)} ${pad(n, 5)}`;
  return {
    mpn: `GEN-${pad(n, 5)}`,
    name: `${name} (${period === "one_time" ? "one-time" : period})`,
    description: `Generated catalog item ${pad(n, 5)} for volume tests`,
    gbp,
    eur,
    billing_period: period,
    type: "item",
    fee_kind: null,
    family: FAMILIES.generated,
  };
}
