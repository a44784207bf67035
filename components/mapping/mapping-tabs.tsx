"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useMappingStatus } from "./refresh-bar";

/** Products | Customers tabs with their unmapped counts. */
export function MappingTabs() {
  const pathname = usePathname();
  const { data } = useMappingStatus();
  const tabs = [
    { href: "/mapping/products", label: "Products", unmapped: data?.counts.products.unmapped },
    { href: "/mapping/customers", label: "Customers", unmapped: data?.counts.customers.unmapped },
  ];
  return (
    <nav aria-label="Mapping" className="flex gap-1 border-b border-slate-200">
      {tabs.map((t) => {
        const active = pathname.startsWith(t.href);
        return (
          <Link
            key={t.href}
            href={t.href}
            aria-current={active ? "page" : undefined}
            className={`-mb-px border-b-2 px-4 py-2 text-sm font-medium ${active ? "border-brand text-brand" : "border-transparent text-slate-600 hover:text-ink"}`}
          >
            {t.label}
            {t.unmapped !== undefined && t.unmapped > 0 && <span className="ml-2 rounded-full bg-amber-100 px-2 py-0.5 text-xs text-amber-800">{t.unmapped} unmapped</span>}
          </Link>
        );
      })}
    </nav>
  );
}
