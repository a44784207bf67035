import { z } from "zod";
import { getDb } from "@/db/client";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { FileExchangeError, issuePasscode, latestPasscode } from "@/lib/connections/file-exchange";

const productSchema = z.enum(["sage-50-cloud"], { message: "Unknown file-exchange product" });

/** The reseller's latest passcode for a file-exchange product (the connect page polls it until access is granted). */
export async function GET(request: Request) {
  const product = productSchema.safeParse(new URL(request.url).searchParams.get("product"));
  if (!product.success) return Response.json({ error: product.error.issues[0]!.message }, { status: 400 });
  const { user, error } = await authorizeResellerAdmin();
  if (error) return error;
  return Response.json({ passcode: await latestPasscode(await getDb(), { tenantId: user.tenantId, targetId: product.data }) });
}

const newPasscodeSchema = z.object({ product: productSchema, country: z.string().min(2, "Choose the country of your Sage 50 company.").max(8) });

/** "New passcode": a fresh one (the old one stays valid until it expires). */
export async function POST(request: Request) {
  const parsed = newPasscodeSchema.safeParse(await request.json().catch(() => null));
  if (!parsed.success) return Response.json({ error: parsed.error.issues[0]!.message }, { status: 400 });
  const { user, error } = await authorizeResellerAdmin({ supportRefusal: "Support staff cannot connect Sage for a reseller or see its passcode; the reseller must do it." });
  if (error) return error;
  try {
    return Response.json({ passcode: await issuePasscode(await getDb(), { tenantId: user.tenantId, targetId: parsed.data.product, country: parsed.data.country, actor: actorFor(user) }) });
  } catch (e) {
    if (e instanceof FileExchangeError) return Response.json({ error: e.message }, { status: e.reason === "not_registered" ? 503 : 400 });
    throw e;
  }
}
