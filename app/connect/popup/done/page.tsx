import type { Metadata } from "next";
import { Card, PageTitle } from "@/components/ui/card";
import { isConsentReturnPath } from "@/lib/oauth/consent-messages";
import { ConsentPopupDone } from "./popup-done";

export const metadata: Metadata = { title: "Sage sign-in finished" };

/**
 * The consent popup's last page: the callback (which ran in the popup) sends it here with where the
 * framed Connect page goes next — one of a fixed set of the app's own paths, anything else is dropped.
 */
export default async function ConsentPopupDonePage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams;
  return (
    <div className="mx-auto max-w-md">
      <PageTitle>Sage answered</PageTitle>
      <Card>
        <ConsentPopupDone next={isConsentReturnPath(next) ? next : null} />
      </Card>
    </div>
  );
}
