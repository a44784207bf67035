"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { getDb } from "@/db/client";
import { getSessionUser } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { completeApplicationRegistration, FileExchangeError, registrationInputSchema, startApplicationRegistration } from "@/lib/connections/file-exchange";

export type RegistrationState = { error?: string; done?: string };

const startSchema = z.object({
  name: z.string().trim().min(1, "Enter the developer's name.").max(200),
  email: z.string().trim().email("Enter the e-mail address the registration ids are sent to."),
});

async function operator() {
  const user = await getSessionUser();
  return user?.role === "support" ? user : null;
}

export async function startRegistrationAction(_prev: RegistrationState, form: FormData): Promise<RegistrationState> {
  const parsed = startSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) return { error: parsed.error.issues[0]!.message };
  const user = await operator();
  if (!user) return { error: "Only the deployment's operator (support staff) can register the application." };
  try {
    await startApplicationRegistration(await getDb(), { targetId: "sage-50-cloud", ...parsed.data, actor: actorFor(user) });
  } catch (e) {
    if (e instanceof FileExchangeError) return { error: e.message };
    throw e;
  }
  revalidatePath("/support/file-exchange");
  return { done: "Registration started: open the registration page, complete it, then enter the ids from the e-mail below." };
}

export async function completeRegistrationAction(_prev: RegistrationState, form: FormData): Promise<RegistrationState> {
  const parsed = registrationInputSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) return { error: parsed.error.issues[0]!.message };
  const user = await operator();
  if (!user) return { error: "Only the deployment's operator (support staff) can register the application." };
  try {
    await completeApplicationRegistration(await getDb(), { targetId: "sage-50-cloud", ...parsed.data, actor: actorFor(user) });
  } catch (e) {
    if (e instanceof FileExchangeError) return { error: e.message };
    throw e;
  }
  revalidatePath("/support/file-exchange");
  return { done: "Sage 50 Cloud is set up: resellers can now connect with a passcode." };
}
