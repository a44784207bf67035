import type { Metadata } from "next";
import Link from "next/link";
import "./globals.css";
import { FrameHeightReporter } from "@/components/embed/frame-height";
import { Notifications } from "@/components/notifications";
import { Providers } from "@/components/providers";
import { currentViewAs, getSessionUser } from "@/lib/auth/session";
import { frameAncestorOrigins } from "@/lib/config";
import { requestFormatContext } from "@/lib/locale/request";
import { signOutAction } from "./session-actions";
import { endViewAsAction } from "./support/actions";

export const metadata: Metadata = {
  // each page names itself: "Tasks · Sage Connector"
  title: { template: "%s · Sage Connector", default: "Sage Connector" },
  description: "Marketplace → Sage accounting, exactly once.",
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const user = await getSessionUser();
  // dates, numbers and money follow the browser's language (Accept-Language), en-GB without one
  const { locale, timeZone } = await requestFormatContext();
  const viewAs = await currentViewAs(user);
  const tenantPages = user && (user.role === "reseller_admin" || viewAs);
  return (
    <html lang={locale}>
      <body>
        <Providers locale={locale} timeZone={timeZone}>
          <header className="border-b border-slate-200 bg-white">
            <div className="mx-auto flex max-w-5xl items-center justify-between gap-4 px-6 py-3">
              <Link href="/dashboard" className="flex items-center gap-2 font-semibold text-brand">
                <span aria-hidden className="inline-block h-6 w-6 rounded bg-brand" /> Sage Connector
              </Link>
              {user && (
                <nav aria-label="Main" className="flex items-center gap-4 text-sm">
                  {tenantPages && (
                    <>
                      <Link href="/dashboard" className="hover:underline">Dashboard</Link>
                      <Link href="/tasks" className="hover:underline">Tasks</Link>
                      <Link href="/mapping/products" className="hover:underline">Mapping</Link>
                      <Link href="/action-log" className="hover:underline">Action Log</Link>
                    </>
                  )}
                  {user.role === "support" && <Link href="/support" className="hover:underline">Support console</Link>}
                  <span className="text-slate-500" title={user.email}>{user.name}</span>
                  <form action={signOutAction}>
                    <button className="text-slate-600 hover:underline" type="submit">Sign out</button>
                  </form>
                </nav>
              )}
            </div>
          </header>
          {viewAs && (
            <div role="status" data-testid="view-as-banner" className="border-b border-amber-300 bg-amber-50">
              <div className="mx-auto flex max-w-5xl items-center justify-between gap-4 px-6 py-2 text-sm text-amber-900">
                <span>
                  <strong>Viewing as {viewAs.tenantName} — read only.</strong> You are support ({user?.email}); every change is refused and recorded in the tenant&apos;s Action Log.
                </span>
                <form action={endViewAsAction}>
                  <button type="submit" className="font-medium underline">Stop viewing</button>
                </form>
              </div>
            </div>
          )}
          <main className="mx-auto max-w-5xl px-6 py-8">{children}</main>
          {user?.tenantId && user.role === "reseller_admin" && <Notifications tenantId={user.tenantId} />}
        </Providers>
        <FrameHeightReporter allowedOrigins={frameAncestorOrigins().map((o) => new URL(o).origin)} />
      </body>
    </html>
  );
}
