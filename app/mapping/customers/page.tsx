import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { CustomersTab } from "@/components/mapping/customers-tab";
import { ResyncReviewCard } from "@/components/resync/resync-review-card";
import { requireTenantReader } from "@/lib/auth/session";
import { getResyncReview } from "@/lib/sync/resync-guard";

type Params = Promise<Record<string, string | string[] | undefined>>;
const one = (v: string | string[] | undefined) => (typeof v === "string" ? v : undefined);

export const metadata: Metadata = { title: "Customers · Mapping" };

/**
 * Customers tab: `?search=` and `?unmapped=1`; each row has its own auto-sync toggle. A re-sync review
 * (after a reconnect that found no Sage contact ids) is shown above the table: the orders it holds link here.
 */
export default async function MappingCustomersPage({ searchParams }: { searchParams: Params }) {
  const sp = await searchParams;
  const unmapped = ["1", "true", "on"].includes(one(sp.unmapped) ?? "");
  const access = await requireTenantReader(`/mapping/customers${unmapped ? "?unmapped=1" : ""}`);
  const review = await getResyncReview(await getDb(), access.tenantId);
  return (
    <>
      {review && (
        <div className="mb-6">
          <ResyncReviewCard initial={review} readOnly={access.viewAs !== null} />
        </div>
      )}
      <CustomersTab initial={{ search: one(sp.search) ?? "", unmapped }} />
    </>
  );
}
