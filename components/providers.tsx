"use client";

import { QueryClient, QueryClientProvider, isServer } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { FormatProvider } from "./format";

function makeQueryClient() {
  return new QueryClient({ defaultOptions: { queries: { staleTime: 5_000, refetchOnWindowFocus: true } } });
}

let browserQueryClient: QueryClient | undefined;

/** One QueryClient per request on the server, one per tab in the browser (TanStack advanced SSR guide). */
function getQueryClient() {
  if (isServer) return makeQueryClient();
  browserQueryClient ??= makeQueryClient();
  return browserQueryClient;
}

/** `locale` and `timeZone` are the request's (lib/locale/request.ts), resolved once in the root layout. */
export function Providers({ locale, timeZone, children }: { locale: string; timeZone: string; children: ReactNode }) {
  return (
    <QueryClientProvider client={getQueryClient()}>
      <FormatProvider locale={locale} serverTimeZone={timeZone}>
        {children}
      </FormatProvider>
    </QueryClientProvider>
  );
}
