// Seed companies of the simulated Sage 50 desktop installs, each with a Products and a Customers
// file in the e-Commerce solution's shapes (SAGE-OTHER-PRODUCTS.md §B: Product, Customer, Address).
// The customers are the marketplace's demo customers (same names and e-mails) so a demo can match them.
import { CUSTOMER_SEEDS, type CustomerSeed } from "../marketplace/catalog";

export type Record50 = Record<string, unknown> & { id: string };

export interface CompanySeed {
  id: string;
  name: string;
  country: "GB" | "ES";
  currency: "GBP" | "EUR";
  /** Standard VAT/IVA rate (%) of the company's country. */
  taxRate: number;
  products: Record50[];
  customers: Record50[];
}

/** Seed records pretend to come from the desktop's first upload. */
export const SEED_TIMESTAMP = "2026-01-05T09:00:00Z";

interface ProductSeed50 {
  id: string;
  reference: string;
  name: string;
  shortDescription: string;
  gbp: number;
  eur: number;
}

const PRODUCTS: ProductSeed50[] = [
  { id: "101", reference: "M365-BASIC-M", name: "Microsoft 365 Business Basic (monthly)", shortDescription: "Web and mobile Office apps, Exchange mailbox", gbp: 5.1, eur: 5.9 },
  { id: "102", reference: "M365-STD-M", name: "Microsoft 365 Business Standard (monthly)", shortDescription: "Desktop Office apps, Exchange mailbox, Teams", gbp: 10.3, eur: 11.7 },
  { id: "103", reference: "AZURE-PLAN", name: "Azure plan (usage)", shortDescription: "Azure consumption billed monthly in arrears", gbp: 1, eur: 1 },
  { id: "104", reference: "TEAMS-ESS", name: "Microsoft Teams Essentials", shortDescription: "Meetings, chat and file sharing", gbp: 3.2, eur: 3.7 },
  { id: "105", reference: "DEFENDER-EP", name: "Defender for Endpoint P1", shortDescription: "Endpoint protection per user", gbp: 2.6, eur: 3 },
  { id: "106", reference: "CANCEL-FEE", name: "Early cancellation fee", shortDescription: "Charged when a subscription ends before its term", gbp: 25, eur: 29 },
];

function productRecord(p: ProductSeed50, currency: "GBP" | "EUR", taxRate: number): Record50 {
  return {
    id: p.id,
    reference: p.reference,
    name: p.name,
    shortDescription: p.shortDescription,
    netPrice: currency === "GBP" ? p.gbp : p.eur,
    tax: taxRate,
    discount: 0,
    discountByUnit: false,
  };
}

/** A Sage 50 style account reference: the first five letters of the name + "001" ("CONTO001"). */
export function accountReference(name: string): string {
  return `${name.replace(/[^A-Za-z]/g, "").slice(0, 5).toUpperCase()}001`;
}

function customerRecord(c: CustomerSeed, taxRate: number): Record50 {
  const id = accountReference(c.name);
  const [firstName = "", ...rest] = c.contact_name.split(" ");
  return {
    id,
    idNumber: c.tax_id ?? "",
    firstName,
    lastName: rest.join(" "),
    companyName: c.name,
    email: c.email,
    currency: c.currency,
    tax: taxRate,
    surcharge: false,
    type: "company",
    timestamp: SEED_TIMESTAMP,
    addresses: [
      { id: `${id}-1`, address1: c.line1, city: c.city, country: c.country, postCode: c.postal_code, telephone1: c.phone, timestamp: SEED_TIMESTAMP },
    ],
  };
}

function customersNamed(names: string[]): CustomerSeed[] {
  return names.map((n) => {
    const c = CUSTOMER_SEEDS.find((s) => s.name === n);
    if (!c) throw new Error(`no marketplace demo customer ${n}`);
    return c;
  });
}

function company(id: string, name: string, country: "GB" | "ES", currency: "GBP" | "EUR", taxRate: number, customers: string[]): CompanySeed {
  return {
    id,
    name,
    country,
    currency,
    taxRate,
    products: PRODUCTS.map((p) => productRecord(p, currency, taxRate)),
    customers: customersNamed(customers).map((c) => customerRecord(c, taxRate)),
  };
}

export function companySeeds(): CompanySeed[] {
  return [
    company("SAGE50-GB-001", "Sage 50 Demo Company Ltd", "GB", "GBP", 20, ["Contoso Ltd", "Fabrikam Ireland Ltd", "Northwind Traders Ltd", "Tailspin Toys Ltd"]),
    company("SAGE50-ES-001", "Iberia Distribución SL", "ES", "EUR", 21, ["Contoso Ltd", "Fabrikam Ireland Ltd", "Adatum GmbH", "Litware SAS"]),
  ];
}
