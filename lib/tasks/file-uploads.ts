import { and, asc, eq, ne } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections } from "@/db/schema";
import { getSageTarget } from "@/lib/sage/targets";
import { recentFileUploads } from "@/lib/sync/file-upload";

export type FileUploadView = {
  uploadId: string;
  status: string;
  progress: number;
  statusMessage: string | null;
  orders: number;
  createdAt: string;
  updatedAt: string;
};

/** The Tasks page's "Order files" card: null unless the tenant's connection works by file exchange (Sage 50 Cloud). */
export type FileUploadsOverview = { target: string; label: string; uploads: FileUploadView[] } | null;

export async function fileUploadsOverview(db: Database, tenantId: string, limit = 5): Promise<FileUploadsOverview> {
  const [connection] = await db
    .select({ id: connections.id, target: connections.target })
    .from(connections)
    .where(and(eq(connections.tenantId, tenantId), ne(connections.status, "disconnected")))
    .orderBy(asc(connections.createdAt))
    .limit(1);
  if (!connection) return null;
  const target = getSageTarget(connection.target);
  if (target.exchange !== "file_exchange") return null;
  const rows = await recentFileUploads(db, tenantId, limit, connection.id);
  return {
    target: target.id,
    label: target.label,
    uploads: rows.map((r) => ({
      uploadId: r.uploadId,
      status: r.status,
      progress: r.progress,
      statusMessage: r.statusMessage,
      orders: Number(r.tasks),
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    })),
  };
}
