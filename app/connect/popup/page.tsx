import type { Metadata } from "next";
import { Card, PageTitle } from "@/components/ui/card";
import { ConsentPopupStart } from "./popup-start";

export const metadata: Metadata = { title: "Sage sign-in" };

/**
 * The consent popup's first page (top level, on the app's origin, without the framed session): it gets
 * its single-use ticket from the Connect page that opened it and goes on to Sage. Needs no session.
 */
export default function ConsentPopupPage() {
  return (
    <div className="mx-auto max-w-md">
      <PageTitle>Connecting to Sage</PageTitle>
      <Card>
        <ConsentPopupStart />
      </Card>
    </div>
  );
}
