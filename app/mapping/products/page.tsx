import type { Metadata } from "next";
import { FeesPane } from "@/components/mapping/fees-pane";
import { ProductsTab } from "@/components/mapping/products-tab";
import Link from "next/link";
import { tasksBackPath } from "@/lib/auth/redirects";
import { requireTenantReader } from "@/lib/auth/session";

type Params = Promise<Record<string, string | string[] | undefined>>;
const one = (v: string | string[] | undefined) => (typeof v === "string" ? v : undefined);

export const metadata: Metadata = { title: "Products · Mapping" };

/** Products tab: `?search=`, `?unmapped=1` (tasks link here), `?tab=fees` (the Fees mapping pane), `?from=/tasks…` (Back to tasks). */
export default async function MappingProductsPage({ searchParams }: { searchParams: Params }) {
  const sp = await searchParams;
  const unmapped = ["1", "true", "on"].includes(one(sp.unmapped) ?? "");
  const back = tasksBackPath(one(sp.from));
  await requireTenantReader(`/mapping/products${unmapped ? "?unmapped=1" : ""}`);
  return (
    <div className="space-y-6">
      {back && (
        <Link href={back} className="text-sm text-brand underline">
          ← Back to tasks
        </Link>
      )}
      <ProductsTab initial={{ search: one(sp.search) ?? "", unmapped }} />
      <FeesPane focus={one(sp.tab) === "fees"} />
    </div>
  );
}
