import { getDb } from "@/db/client";
import { fileExchangeFileUpdated } from "@/inngest/events";
import { sendEvent } from "@/inngest/send";
import { receiveFileNotification } from "@/lib/connections/file-exchange";

/** "A scope file was updated" from the file-exchange platform (signed): one download flow per connected company. */
export async function POST(request: Request, { params }: { params: Promise<{ target: string }> }) {
  const { target } = await params;
  const body = await request.text();
  if (body.length > 64_000) return Response.json({ error: "too_large" }, { status: 413 });
  const outcome = await receiveFileNotification(await getDb(), { targetId: target, headers: request.headers, body });
  if (outcome.status !== 200) return Response.json({ message: outcome.message }, { status: outcome.status });
  // the event id dedupes a notification delivered twice (one download per file version and connection)
  if (outcome.downloads.length) await sendEvent(outcome.downloads.map((d) => fileExchangeFileUpdated.create(d, { id: `file-updated:${d.connectionId}:${d.fileId}` })));
  return Response.json({ message: outcome.message });
}
