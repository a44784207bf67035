import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The house rules of DESIGN.md as a check that can fail: `.dependency-cruiser.cjs` run by the
 * maintained tool. The real tree has no violation; a tree that breaks each rule is refused by name.
 */
const root = path.resolve(__dirname, "../..");
const bin = path.join(root, "node_modules", ".bin", "depcruise");

function cruise(cwd: string, dirs: string[]): { code: number; out: string } {
  try {
    const out = execFileSync(bin, [...dirs, "--config", path.join(root, ".dependency-cruiser.cjs"), "--output-type", "err"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: `${err.stdout}${err.stderr}` };
  }
}

describe("import boundaries (dependency-cruiser)", () => {
  it("the app's tree keeps every boundary", () => {
    const r = cruise(root, ["app", "lib", "db", "inngest", "components", "sandbox"].filter((d) => fs.existsSync(path.join(root, d))));
    expect(r.out).toContain("no dependency violations found");
    expect(r.code).toBe(0);
  }, 120_000);

  it("a tree that breaks each rule is refused, rule by rule", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "boundaries-"));
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    };
    write("tsconfig.json", JSON.stringify({ compilerOptions: { baseUrl: ".", module: "esnext", moduleResolution: "bundler" } }));
    write("db/client.ts", "export const db = 1;\n");
    write("app/page.ts", "export const page = 1;\n");
    write("inngest/fn.ts", "export const fn = 1;\n");
    write("lib/sage/accounting/api.ts", "export const client = 1;\n");
    write("lib/sage/bad-db.ts", 'import { db } from "../../db/client";\nexport const x = db;\n');
    write("lib/sync/bad-app.ts", 'import { page } from "../../app/page";\nimport { fn } from "../../inngest/fn";\nexport const y = page + fn;\n');
    write("lib/sync/bad-client.ts", 'import { client } from "../sage/accounting/api";\nexport const z = client;\n');
    write("sandbox/bad.ts", 'import { db } from "../db/client";\nexport const s = db;\n');
    write("components/bad.tsx", 'import { db } from "../db/client";\nexport const c = db;\n');
    const r = cruise(dir, ["app", "lib", "db", "inngest", "components", "sandbox"]);
    expect(r.code).not.toBe(0);
    for (const rule of ["sage-targets-not-db", "lib-not-app-or-inngest", "target-clients-stay-in-their-folder", "sandbox-is-a-peer", "components-not-db"]) expect(r.out).toContain(rule);
    expect(r.out).toMatch(/6 dependency violations/);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
