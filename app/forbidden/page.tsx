import type { Metadata } from "next";
import { Card, PageTitle } from "@/components/ui/card";


export const metadata: Metadata = { title: "Not allowed" };

export default function Forbidden() {
  return (
    <>
      <PageTitle>Not available for this account</PageTitle>
      <Card>
        <p>This page is for reseller administrators. Support staff use the support console, which cannot authorize Sage or start a sync on a reseller&apos;s behalf.</p>
      </Card>
    </>
  );
}
