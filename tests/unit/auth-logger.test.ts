import { describe, expect, it } from "vitest";
import { authErrorLine, authLogger } from "@/lib/auth/auth-logger";

function capture() {
  const warned: string[] = [];
  const errored: unknown[][] = [];
  return { out: { warn: (m: string) => warned.push(m), error: (...a: unknown[]) => errored.push(a) }, warned, errored };
}

describe("next-auth logger", () => {
  it("a failed sign-in is one line, without a stack trace", () => {
    const c = capture();
    // what next-auth passes for a wrong password (its CredentialsSignin: type + a "Read more" message)
    authLogger(c.out).error(Object.assign(new Error("Read more at https://errors.authjs.dev#credentialssignin"), { type: "CredentialsSignin" }));
    expect(c.warned).toEqual(["[auth] CredentialsSignin"]);
    expect(c.errored).toEqual([]);
    expect(c.warned[0]).not.toContain("\n");
  });

  it("other request-caused errors are one line with their message, the 'Read more' link dropped", () => {
    const e = Object.assign(new Error("CSRF token was missing during an action signin. Read more at https://errors.authjs.dev#missingcsrf"), { type: "MissingCSRF" });
    expect(authErrorLine(e)).toBe("[auth] MissingCSRF: CSRF token was missing during an action signin");
  });

  it("a fault of ours keeps its stack (logged as the error object)", () => {
    const c = capture();
    const fault = Object.assign(new Error("database is down"), { type: "CallbackRouteError" });
    authLogger(c.out).error(fault);
    expect(c.warned).toEqual([]);
    expect(c.errored).toEqual([["[auth][error]", fault]]);
    const plain = new TypeError("boom");
    authLogger(c.out).error(plain);
    expect(c.errored[1]).toEqual(["[auth][error]", plain]);
  });
});
