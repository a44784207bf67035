import { getDb } from "@/db/client";
import { receiveApproval } from "@/lib/connections/file-exchange";

/** The file-exchange platform's approval call (Sage 50 Cloud → us, signed): a granted passcode becomes the tenant's connection. */
export async function POST(request: Request, { params }: { params: Promise<{ target: string }> }) {
  const { target } = await params;
  const body = await request.text();
  if (body.length > 64_000) return Response.json({ error: "too_large" }, { status: 413 });
  const outcome = await receiveApproval(await getDb(), { targetId: target, headers: request.headers, body });
  return Response.json({ message: outcome.message }, { status: outcome.status });
}
