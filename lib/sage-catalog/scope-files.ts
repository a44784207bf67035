import { and, eq, inArray, isNull, notInArray, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { customerMappings, feeMappings, productMappings, sageContacts, sageItems } from "@/db/schema";
import { sageFiles } from "@/lib/connections/sage-session";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import type { SageFileScope } from "@/lib/sage/target";
import { contactCacheValues, itemCacheValues, upsertCachedContacts, upsertCachedItems } from "./refresh";

/**
 * A file-exchange target (Sage 50 Cloud) keeps only the latest file per scope, and that file holds
 * the FULL data: what is absent from it was deleted in Sage. Each download reconciles the Mapping
 * screen's cache: rows in the file are upserted (and un-flagged), rows missing from it are flagged
 * `deleted_in_sage_at` — never silently dropped — and a mapping that points at one is named in the
 * Action Log so the reseller can map it again. One transaction per scope, with its Action Log rows.
 */

export type ScopeReconciliation = { scope: SageFileScope; fileId: string; records: number; flaggedDeleted: number; restored: number; mappingsAffected: string[] };

export async function reconcileScopeFiles(db: Database, input: { tenantId: string; connectionId: string; scopes?: SageFileScope[]; actor: Actor; requestId?: string }): Promise<ScopeReconciliation[]> {
  const files = await sageFiles(db, input.connectionId);
  const out: ScopeReconciliation[] = [];
  for (const scope of input.scopes ?? (["Products", "Customers"] as const)) {
    const file = await files.downloadScope(scope);
    const at = new Date();
    out.push(
      await db.transaction(async (tx) => {
        if (file.scope === "Products") {
          const ids = file.items.map((i) => i.id);
          const restored = ids.length ? await tx.update(sageItems).set({ deletedInSageAt: null }).where(and(eq(sageItems.connectionId, input.connectionId), inArray(sageItems.sageId, ids), sql`${sageItems.deletedInSageAt} is not null`)).returning({ id: sageItems.id }) : [];
          await upsertCachedItems(tx, file.items.map((i) => ({ ...itemCacheValues(input.tenantId, input.connectionId, i.type, i, at), deletedInSageAt: null })));
          const gone = await tx
            .update(sageItems)
            .set({ deletedInSageAt: at, active: false })
            .where(and(eq(sageItems.connectionId, input.connectionId), isNull(sageItems.deletedInSageAt), ids.length ? notInArray(sageItems.sageId, ids) : sql`true`))
            .returning({ sageId: sageItems.sageId, description: sageItems.description, itemCode: sageItems.itemCode });
          const goneIds = gone.map((g) => g.sageId);
          const mapped = goneIds.length ? [...(await tx.select({ id: productMappings.sageItemId }).from(productMappings).where(and(eq(productMappings.tenantId, input.tenantId), inArray(productMappings.sageItemId, goneIds)))), ...(await tx.select({ id: feeMappings.sageItemId }).from(feeMappings).where(and(eq(feeMappings.tenantId, input.tenantId), inArray(feeMappings.sageItemId, goneIds))))] : [];
          const affected = [...new Set(mapped.map((m) => m.id))].map((id) => gone.find((g) => g.sageId === id)!).map((g) => `${g.description}${g.itemCode ? ` (${g.itemCode})` : ""}`);
          await logReconciliation(tx, input, scope, file.fileId, file.items.length, gone.map((g) => `${g.description}${g.itemCode ? ` (${g.itemCode})` : ""}`), affected, restored.length);
          return { scope, fileId: file.fileId, records: file.items.length, flaggedDeleted: gone.length, restored: restored.length, mappingsAffected: affected };
        }
        const ids = file.contacts.map((c) => c.id);
        const restored = ids.length ? await tx.update(sageContacts).set({ deletedInSageAt: null }).where(and(eq(sageContacts.connectionId, input.connectionId), inArray(sageContacts.sageId, ids), sql`${sageContacts.deletedInSageAt} is not null`)).returning({ id: sageContacts.id }) : [];
        await upsertCachedContacts(tx, file.contacts.map((c) => ({ ...contactCacheValues(input.tenantId, input.connectionId, c, at), deletedInSageAt: null })));
        const gone = await tx
          .update(sageContacts)
          .set({ deletedInSageAt: at })
          .where(and(eq(sageContacts.connectionId, input.connectionId), isNull(sageContacts.deletedInSageAt), ids.length ? notInArray(sageContacts.sageId, ids) : sql`true`))
          .returning({ sageId: sageContacts.sageId, name: sageContacts.name });
        const goneIds = gone.map((g) => g.sageId);
        const mapped = goneIds.length ? await tx.select({ id: customerMappings.sageContactId }).from(customerMappings).where(and(eq(customerMappings.tenantId, input.tenantId), inArray(customerMappings.sageContactId, goneIds))) : [];
        const affected = [...new Set(mapped.map((m) => m.id!))].map((id) => gone.find((g) => g.sageId === id)!.name);
        await logReconciliation(tx, input, scope, file.fileId, file.contacts.length, gone.map((g) => g.name), affected, restored.length);
        return { scope, fileId: file.fileId, records: file.contacts.length, flaggedDeleted: gone.length, restored: restored.length, mappingsAffected: affected };
      }),
    );
  }
  return out;
}

async function logReconciliation(
  tx: Parameters<Parameters<Database["transaction"]>[0]>[0],
  input: { tenantId: string; connectionId: string; actor: Actor; requestId?: string },
  scope: SageFileScope,
  fileId: string,
  records: number,
  gone: string[],
  affected: string[],
  restored: number,
) {
  const what = scope === "Products" ? "products" : "customers";
  await writeActionLog(tx, {
    tenantId: input.tenantId,
    actor: input.actor,
    level: "success",
    category: "mapping",
    message: `Downloaded the Sage 50 ${scope} file: ${records} ${what}${restored ? `, ${restored} back in Sage` : ""}${gone.length ? `; ${gone.length} no longer in Sage 50 flagged as deleted` : ""}`,
    details: { op: "file_download", scope, fileId, connectionId: input.connectionId, requestId: input.requestId, records, flaggedDeleted: gone.length, restored },
  });
  if (gone.length) {
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: affected.length ? "action_required" : "warning",
      category: "mapping",
      message: `Deleted in Sage 50 (missing from the latest ${scope} file): ${gone.join(", ")}.${affected.length ? ` Mapped and now pointing at nothing in Sage: ${affected.join(", ")} — map ${affected.length === 1 ? "it" : "them"} again on the Mapping screen; orders using ${affected.length === 1 ? "it" : "them"} wait until then.` : " None of them was mapped."}`,
      details: { op: "file_deleted_in_sage", scope, fileId, deleted: gone, mappingsAffected: affected },
    });
  }
}
