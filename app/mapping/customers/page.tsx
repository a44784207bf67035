import type { Metadata } from "next";
import { CustomersTab } from "@/components/mapping/customers-tab";
import { requireTenantReader } from "@/lib/auth/session";

type Params = Promise<Record<string, string | string[] | undefined>>;
const one = (v: string | string[] | undefined) => (typeof v === "string" ? v : undefined);

export const metadata: Metadata = { title: "Customers · Mapping" };

/** Customers tab: `?search=` and `?unmapped=1`; each row has its own auto-sync toggle. */
export default async function MappingCustomersPage({ searchParams }: { searchParams: Params }) {
  const sp = await searchParams;
  const unmapped = ["1", "true", "on"].includes(one(sp.unmapped) ?? "");
  await requireTenantReader(`/mapping/customers${unmapped ? "?unmapped=1" : ""}`);
  return <CustomersTab initial={{ search: one(sp.search) ?? "", unmapped }} />;
}
