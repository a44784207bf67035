import type { Metadata } from "next";
import { Card, PageTitle } from "@/components/ui/card";
import { LoginForm } from "./login-form";


export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string; error?: string }> }) {
  const { callbackUrl } = await searchParams;
  return (
    <div className="mx-auto max-w-md">
      <PageTitle subtitle="Reseller administrators and support staff">Sign in to Sage Connector</PageTitle>
      <Card>
        <LoginForm callbackUrl={callbackUrl} />
      </Card>
    </div>
  );
}
