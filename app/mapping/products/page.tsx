import { FeesPane } from "@/components/mapping/fees-pane";
import { ProductsTab } from "@/components/mapping/products-tab";
import { requireResellerAdmin } from "@/lib/auth/session";

type Params = Promise<Record<string, string | string[] | undefined>>;
const one = (v: string | string[] | undefined) => (typeof v === "string" ? v : undefined);

/** Products tab: `?search=`, `?unmapped=1` (tasks link here) and `?tab=fees` (the Fees mapping pane). */
export default async function MappingProductsPage({ searchParams }: { searchParams: Params }) {
  const sp = await searchParams;
  const unmapped = ["1", "true", "on"].includes(one(sp.unmapped) ?? "");
  await requireResellerAdmin(`/mapping/products${unmapped ? "?unmapped=1" : ""}`);
  return (
    <div className="space-y-6">
      <ProductsTab initial={{ search: one(sp.search) ?? "", unmapped }} />
      <FeesPane focus={one(sp.tab) === "fees"} />
    </div>
  );
}
