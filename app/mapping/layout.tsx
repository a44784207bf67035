import { PageTitle } from "@/components/ui/card";
import { MappingTabs } from "@/components/mapping/mapping-tabs";
import { RefreshBar } from "@/components/mapping/refresh-bar";
import { MappingRequestsProvider, RequestOutcomes } from "@/components/mapping/use-queued-requests";
import { requireTenantReader } from "@/lib/auth/session";

export default async function MappingLayout({ children }: { children: React.ReactNode }) {
  await requireTenantReader("/mapping/products");
  return (
    <MappingRequestsProvider>
      <PageTitle subtitle="Which Sage item each marketplace product is invoiced as, and which Sage contact each marketplace customer is.">Mapping</PageTitle>
      <div className="space-y-4">
        <RefreshBar />
        <RequestOutcomes />
        <MappingTabs />
        {children}
      </div>
    </MappingRequestsProvider>
  );
}
