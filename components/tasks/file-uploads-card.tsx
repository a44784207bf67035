"use client";

import { useQuery } from "@tanstack/react-query";
import { useFormat } from "@/components/format";
import type { FileUploadsOverview, FileUploadView } from "@/lib/tasks/file-uploads";

const STATUS_LABELS: Record<string, string> = {
  prepared: "Prepared",
  uploaded: "Uploaded",
  received: "Received",
  validating: "Validating",
  processing: "Processing",
  accepted: "Accepted",
  failed: "Failed",
  badRequest: "Refused",
  applied: "Done",
};
const STATUS_STYLE: Record<string, string> = {
  accepted: "bg-emerald-100 text-emerald-800",
  applied: "bg-emerald-100 text-emerald-800",
  failed: "bg-red-100 text-red-800",
  badRequest: "bg-red-100 text-red-800",
};
/** an upload still under way: the card polls quickly while there is one */
const inFlight = (u: FileUploadView) => u.status !== "applied";

/**
 * The Tasks page's "Order files" card for a file-exchange connection (Sage 50 Cloud): the latest
 * uploads with their status and progress as the sync flow tracks them (GET /api/sync/uploads, polled).
 * Its query key sits under ["tasks"], so starting a sync refreshes it at once.
 */
export function FileUploadsCard({ initial }: { initial: NonNullable<FileUploadsOverview> }) {
  const f = useFormat();
  const query = useQuery({
    queryKey: ["tasks", "file-uploads"],
    queryFn: async (): Promise<FileUploadsOverview> => {
      const res = await fetch("/api/sync/uploads", { headers: { accept: "application/json" } });
      if (!res.ok) throw new Error(`Could not read the order files (HTTP ${res.status})`);
      return ((await res.json()) as { overview: FileUploadsOverview }).overview;
    },
    initialData: initial,
    // quick while a file is under way; otherwise every 2 s, so a file a sync just prepared shows up soon
    // (only while the page is visible: TanStack Query pauses intervals in the background)
    refetchInterval: (q) => (q.state.data?.uploads.some(inFlight) ? 1_000 : 2_000),
  });
  const overview = query.data ?? initial;
  return (
    <section className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="file-uploads" aria-labelledby="file-uploads-title">
      <h2 id="file-uploads-title" className="text-lg font-semibold">Order files sent to {overview.label}</h2>
      <p className="mt-1 text-sm text-slate-600">Sync and Sync all send the orders as one file; {overview.label} checks and processes it, then each task shows its document.</p>
      {overview.uploads.length === 0 ? (
        <p className="mt-3 text-sm text-slate-600" data-testid="file-uploads-empty">No order file sent yet.</p>
      ) : (
        <table className="mt-3 w-full text-left text-sm">
          <thead>
            <tr className="border-b border-slate-200 text-slate-600">
              <th scope="col" className="py-1 pr-4 font-medium">Upload</th>
              <th scope="col" className="py-1 pr-4 font-medium">Status</th>
              <th scope="col" className="py-1 pr-4 font-medium">Progress</th>
              <th scope="col" className="py-1 pr-4 font-medium">Orders</th>
              <th scope="col" className="py-1 font-medium">Last change</th>
            </tr>
          </thead>
          <tbody>
            {overview.uploads.map((u) => {
              const progress = u.status === "applied" ? 100 : u.progress;
              return (
                <tr key={u.uploadId} className="border-b border-slate-100 align-top" data-testid="file-upload-row" data-upload-id={u.uploadId} data-status={u.status}>
                  <td className="py-2 pr-4 font-mono text-xs" data-testid="file-upload-id" title={u.uploadId}>{u.uploadId}</td>
                  <td className="py-2 pr-4">
                    <span className={`rounded px-2 py-0.5 text-xs ${STATUS_STYLE[u.status] ?? "bg-sky-100 text-sky-800"}`} data-testid="file-upload-status">{STATUS_LABELS[u.status] ?? u.status}</span>
                    {u.statusMessage && <div className="mt-1 text-xs text-slate-600" data-testid="file-upload-message">{u.statusMessage}</div>}
                  </td>
                  <td className="py-2 pr-4">
                    <div className="flex items-center gap-2">
                      <div role="progressbar" aria-label={`Progress of upload ${u.uploadId}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={progress} className="h-2 w-24 overflow-hidden rounded bg-slate-200">
                        <div className="h-full bg-brand" style={{ width: `${progress}%` }} />
                      </div>
                      <span className="tabular-nums" data-testid="file-upload-progress">{progress}%</span>
                    </div>
                  </td>
                  <td className="py-2 pr-4 tabular-nums" data-testid="file-upload-orders">{f.number(u.orders)}</td>
                  <td className="whitespace-nowrap py-2" title={u.updatedAt}>{f.dateTime(u.updatedAt, { seconds: true })}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
