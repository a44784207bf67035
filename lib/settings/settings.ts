import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Database, Queryable } from "@/db/client";
import {
  AUTO_SYNC_MODES,
  DOWNGRADE_MODES,
  INVOICE_MODES,
  NOTIFICATION_MODES,
  PRICE_SOURCES,
  tenantSettings,
} from "@/db/schema";
import { writeActionLog, type Actor } from "@/lib/log/action-log";

const yesNo = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);

/** The seven settings (DESIGN.md flow 3). Messages are shown next to the field. */
export const settingsInputSchema = z.object({
  priceSource: z.enum(PRICE_SOURCES, { message: "Choose where prices and descriptions come from: Sage or the marketplace." }),
  trimDescription: yesNo.refine((v) => typeof v === "boolean", "Choose Yes or No."),
  allowManyProductsToOneItem: yesNo.refine((v) => typeof v === "boolean", "Choose Yes or No."),
  autoSync: z.enum(AUTO_SYNC_MODES, { message: "Choose Off, once a day, every 5 minutes or instant." }),
  downgrades: z.enum(DOWNGRADE_MODES, { message: "Choose how downgrades are synced." }),
  notifications: z.enum(NOTIFICATION_MODES, { message: "Choose which tasks you are notified about." }),
  invoiceMode: z.enum(INVOICE_MODES, { message: "Choose how orders become invoices." }),
});
export type SettingsInput = z.infer<typeof settingsInputSchema>;

export const SETTING_LABELS: Record<keyof SettingsInput, { label: string; options: Record<string, string> }> = {
  priceSource: { label: "Price and description source", options: { sage: "Sage", marketplace: "Marketplace" } },
  trimDescription: { label: "Trim description", options: { true: "Yes — only the product name", false: "No — full description" } },
  allowManyProductsToOneItem: { label: "Allow many marketplace products → one Sage item", options: { true: "Yes", false: "No" } },
  autoSync: { label: "Auto-sync", options: { off: "Off", daily: "Once a day", every_5_minutes: "Every 5 minutes", instant: "Instant — as soon as an order arrives" } },
  downgrades: { label: "Downgrades", options: { credit_note: "Refund with a credit note", quantity_only: "Quantity changes only" } },
  notifications: { label: "Notifications", options: { errors_and_actions: "Errors and actions required", all_tasks: "All tasks" } },
  invoiceMode: { label: "Invoices", options: { new_per_order: "New invoice per order", latest_open: "Customer's latest open invoice" } },
};

export const DEFAULT_SETTINGS: SettingsInput = {
  priceSource: "marketplace",
  trimDescription: false,
  allowManyProductsToOneItem: false,
  autoSync: "off",
  downgrades: "credit_note",
  notifications: "errors_and_actions",
  invoiceMode: "new_per_order",
};

export async function getSettings(db: Queryable, tenantId: string): Promise<SettingsInput & { confirmed: boolean; taxRules: unknown[] | null }> {
  const [row] = await db.select().from(tenantSettings).where(eq(tenantSettings.tenantId, tenantId));
  if (!row) return { ...DEFAULT_SETTINGS, confirmed: false, taxRules: null };
  const { tenantId: _t, confirmedAt, updatedAt: _u, ...values } = row;
  return { ...values, confirmed: confirmedAt !== null };
}

function show(field: keyof SettingsInput, value: unknown) {
  return SETTING_LABELS[field].options[String(value)] ?? String(value);
}

/** Validate and save; the Action Log row lists every change as old → new, in the same transaction. */
export async function saveSettings(db: Database, input: { tenantId: string; values: SettingsInput; actor: Actor }) {
  const values = settingsInputSchema.parse(input.values);
  return db.transaction(async (tx) => {
    const before = await getSettings(tx, input.tenantId);
    const changes = (Object.keys(values) as (keyof SettingsInput)[])
      .filter((k) => before[k] !== values[k])
      .map((k) => ({ field: SETTING_LABELS[k].label, from: show(k, before[k]), to: show(k, values[k]) }));
    const now = new Date();
    await tx
      .insert(tenantSettings)
      .values({ tenantId: input.tenantId, ...values, confirmedAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: tenantSettings.tenantId, set: { ...values, confirmedAt: now, updatedAt: now } });
    if (changes.length > 0 || !before.confirmed) {
      await writeActionLog(tx, {
        tenantId: input.tenantId,
        actor: input.actor,
        level: "info",
        category: "settings",
        message:
          changes.length > 0
            ? `Settings changed: ${changes.map((c) => `${c.field}: ${c.from} → ${c.to}`).join("; ")}`
            : "Settings confirmed (defaults kept)",
        details: { changes },
      });
    }
    return { changes };
  });
}
