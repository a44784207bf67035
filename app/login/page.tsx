import { Card, PageTitle } from "@/components/ui/card";
import { LoginForm } from "./login-form";

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
