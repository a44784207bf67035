// Seed reference data per country: chart of accounts, tax rates, currencies, contact types,
// artefact statuses — plus a few pre-existing contacts and catalogue items per business.
import type { CountryCode } from "./seed-users";

export type VisibleIn = "sales" | "banking" | "expenses" | "other_payments" | "other_receipts" | "journals" | "reporting";
export const VISIBLE_IN: VisibleIn[] = ["sales", "banking", "expenses", "other_payments", "other_receipts", "journals", "reporting"];

export type TaxKind = "standard" | "reduced" | "zero" | "exempt" | "no_tax";
export type TaxUsage = "sales" | "purchase";

export interface LedgerAccountSeed {
  nominal_code: number;
  name: string;
  type: string;
  classification?: string;
  visible_in: VisibleIn[];
  tax_rate?: string;
  control_name?: string;
}

export interface TaxRateSeed {
  id: string;
  name: string;
  percentage: number;
  kind: TaxKind;
  usage: TaxUsage[];
}

export const LEDGER_ACCOUNT_TYPES: Record<string, string> = {
  SALES: "Sales",
  OTHER_INCOME: "Other Income",
  DIRECT_EXPENSES: "Direct Expenses",
  OVERHEADS: "Overheads",
  CURRENT_ASSETS: "Current Assets",
  BANK: "Bank",
  CURRENT_LIABILITY: "Current Liabilities",
};

function chart(salesTax: string): LedgerAccountSeed[] {
  return [
    { nominal_code: 1100, name: "Debtors Control Account", type: "CURRENT_ASSETS", visible_in: ["reporting"], control_name: "TRADE_DEBTORS" },
    { nominal_code: 1200, name: "Current Account", type: "BANK", visible_in: ["banking", "reporting"] },
    { nominal_code: 2200, name: "VAT on Sales", type: "CURRENT_LIABILITY", visible_in: ["reporting"], control_name: "SALES_TAX" },
    { nominal_code: 4000, name: "Sales Type A", type: "SALES", visible_in: ["sales", "other_receipts", "journals", "reporting"], tax_rate: salesTax },
    { nominal_code: 4010, name: "Sales Type B", type: "SALES", visible_in: ["sales", "other_receipts", "journals", "reporting"], tax_rate: salesTax },
    { nominal_code: 4020, name: "Sales Type C", type: "SALES", visible_in: ["sales", "other_receipts", "journals", "reporting"], tax_rate: salesTax },
    { nominal_code: 4900, name: "Other Income", type: "OTHER_INCOME", visible_in: ["sales", "other_receipts", "journals", "reporting"], tax_rate: salesTax },
    { nominal_code: 5000, name: "Cost of sales - goods", type: "DIRECT_EXPENSES", visible_in: ["expenses", "other_payments", "journals", "reporting"], tax_rate: salesTax },
    { nominal_code: 5100, name: "Cost of sales - subscriptions", type: "DIRECT_EXPENSES", visible_in: ["expenses", "other_payments", "journals", "reporting"], tax_rate: salesTax },
    { nominal_code: 7500, name: "Office costs", type: "OVERHEADS", visible_in: ["expenses", "other_payments", "journals", "reporting"], tax_rate: salesTax },
  ];
}

export const CHART_OF_ACCOUNTS: Record<CountryCode, LedgerAccountSeed[]> = {
  GB: chart("GB_STANDARD"),
  IE: chart("IE_STANDARD"),
};

const BOTH: TaxUsage[] = ["sales", "purchase"];

export const TAX_RATES: Record<CountryCode, TaxRateSeed[]> = {
  GB: [
    { id: "GB_STANDARD", name: "Standard", percentage: 20, kind: "standard", usage: BOTH },
    { id: "GB_LOWER", name: "Lower Rate", percentage: 5, kind: "reduced", usage: BOTH },
    { id: "GB_ZERO", name: "Zero Rated", percentage: 0, kind: "zero", usage: BOTH },
    { id: "GB_EXEMPT", name: "Exempt", percentage: 0, kind: "exempt", usage: BOTH },
    { id: "GB_NO_TAX", name: "No VAT", percentage: 0, kind: "no_tax", usage: BOTH },
  ],
  IE: [
    { id: "IE_STANDARD", name: "Standard", percentage: 23, kind: "standard", usage: BOTH },
    { id: "IE_REDUCED", name: "Reduced", percentage: 13.5, kind: "reduced", usage: BOTH },
    { id: "IE_SECOND_REDUCED", name: "Second Reduced", percentage: 9, kind: "reduced", usage: BOTH },
    { id: "IE_LIVESTOCK", name: "Livestock", percentage: 4.8, kind: "reduced", usage: BOTH },
    { id: "IE_ZERO", name: "Zero", percentage: 0, kind: "zero", usage: BOTH },
    { id: "IE_EXEMPT", name: "Exempt", percentage: 0, kind: "exempt", usage: BOTH },
    { id: "IE_NO_TAX", name: "No VAT", percentage: 0, kind: "no_tax", usage: BOTH },
    { id: "IE_FLAT_RATE_ADDITION", name: "Flat Rate Addition", percentage: 5.1, kind: "reduced", usage: ["purchase"] },
  ],
};

export interface CurrencySeed {
  id: string;
  name: string;
  symbol: string;
}

export const CURRENCIES: CurrencySeed[] = [
  { id: "GBP", name: "Pound Sterling", symbol: "£" },
  { id: "EUR", name: "Euro", symbol: "€" },
  { id: "USD", name: "US Dollar", symbol: "$" },
];

export const CONTACT_TYPES: Array<{ id: string; name: string }> = [
  { id: "CUSTOMER", name: "Customer" },
  { id: "VENDOR", name: "Supplier" },
];

export type ArtefactStatusId = "DRAFT" | "UNPAID" | "PART_PAID" | "PAID" | "VOID";
export const ARTEFACT_STATUSES: Array<{ id: ArtefactStatusId; name: string }> = [
  { id: "DRAFT", name: "Draft" },
  { id: "UNPAID", name: "Unpaid" },
  { id: "PART_PAID", name: "Part Paid" },
  { id: "PAID", name: "Paid" },
  { id: "VOID", name: "Void" },
];

export interface ContactSeed {
  key: string;
  name: string;
  reference: string;
  types: string[];
  email?: string;
  city: string;
  postal_code: string;
}

export interface ItemSeed {
  key: string;
  kind: "product" | "service";
  item_code: string;
  description: string;
  price: number;
  sales_nominal: number;
}

export const CONTACT_SEEDS: Record<CountryCode, ContactSeed[]> = {
  GB: [
    { key: "contoso", name: "Contoso Ltd", reference: "CONTOSO", types: ["CUSTOMER"], email: "accounts@contoso.example", city: "Leeds", postal_code: "LS1 4AP" },
    { key: "fabrikam", name: "Fabrikam Trading Ltd", reference: "FABRIKAM", types: ["CUSTOMER"], email: "finance@fabrikam.example", city: "Bristol", postal_code: "BS1 5TR" },
    { key: "office-supplies", name: "Paper & Pens Supplies", reference: "PAPERPENS", types: ["VENDOR"], email: "sales@paperpens.example", city: "Reading", postal_code: "RG1 1AX" },
  ],
  IE: [
    { key: "liffey", name: "Liffey Analytics Ltd", reference: "LIFFEY", types: ["CUSTOMER"], email: "ap@liffey.example", city: "Dublin", postal_code: "D01 F5P2" },
    { key: "atlantic-hosting", name: "Atlantic Hosting", reference: "ATLHOST", types: ["VENDOR"], email: "billing@atlantic.example", city: "Galway", postal_code: "H91 E2K3" },
  ],
};

export const ITEM_SEEDS: Record<CountryCode, ItemSeed[]> = {
  GB: [
    { key: "m365-basic", kind: "service", item_code: "M365-BASIC", description: "Microsoft 365 Business Basic (monthly)", price: 4.9, sales_nominal: 4000 },
    { key: "m365-standard", kind: "service", item_code: "M365-STANDARD", description: "Microsoft 365 Business Standard (monthly)", price: 10.3, sales_nominal: 4000 },
    { key: "backup-50", kind: "service", item_code: "BACKUP-50GB", description: "Cloud Backup 50 GB", price: 6, sales_nominal: 4010 },
    { key: "yubikey", kind: "product", item_code: "YUBIKEY-5", description: "Security key (hardware)", price: 45, sales_nominal: 4020 },
  ],
  IE: [
    { key: "m365-basic", kind: "service", item_code: "M365-BASIC", description: "Microsoft 365 Business Basic (monthly)", price: 5.6, sales_nominal: 4000 },
    { key: "backup-50", kind: "service", item_code: "BACKUP-50GB", description: "Cloud Backup 50 GB", price: 7, sales_nominal: 4010 },
  ],
};
