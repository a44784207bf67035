// The demo's supervisor (scripts/supervise.mjs) with real child processes: a child that exits is
// restarted after the backoff, a crash loop gives up after maxFastCrashes, stop() kills the whole
// process group (grandchildren too) and nothing is restarted afterwards.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without types
import { supervise } from "../../scripts/supervise.mjs";

interface Supervised {
  readonly child: { pid?: number } | null;
  readonly runs: number;
  stop(): Promise<void>;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "supervise-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A child that counts its runs in a file, exits with code 3 on the first `crashes` runs, then stays up with a grandchild. */
function script(name: string, crashes: number): string {
  const file = path.join(dir, `${name}.mjs`);
  const counter = path.join(dir, `${name}.count`);
  fs.writeFileSync(
    file,
    `import fs from "node:fs"; import { spawn } from "node:child_process";
const n = (fs.existsSync(${JSON.stringify(counter)}) ? Number(fs.readFileSync(${JSON.stringify(counter)}, "utf8")) : 0) + 1;
fs.writeFileSync(${JSON.stringify(counter)}, String(n));
console.log("run " + n);
if (n <= ${crashes}) process.exit(3);
const g = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
console.log("grandchild " + g.pid);
setInterval(() => {}, 1000);
`,
  );
  return file;
}

describe("supervise", () => {
  it("restarts a child that exits, with a doubling backoff, and stop() kills its process group", async () => {
    const starts: number[] = [];
    const lines: string[] = [];
    const logs: string[] = [];
    let gaveUp = "";
    const s = supervise({
      name: "flaky",
      command: process.execPath,
      args: [script("flaky", 2)],
      baseDelayMs: 100,
      maxDelayMs: 1000,
      maxFastCrashes: 5,
      fastCrashMs: 10_000,
      log: (l: string) => logs.push(l),
      out: (l: string) => lines.push(l),
      onStart: () => starts.push(Date.now()),
      onGiveUp: (m: string) => (gaveUp = m),
    }) as Supervised;
    await until("the grandchild", () => lines.some((l) => l.startsWith("grandchild ")));
    expect(s.runs).toBe(3);
    expect(lines.filter((l) => l.startsWith("run "))).toEqual(["run 1", "run 2", "run 3"]);
    expect(logs.filter((l) => l.includes("restarting"))).toEqual([
      "[demo] flaky exited (code 3), restarting in 0.1 s",
      "[demo] flaky exited (code 3), restarting in 0.2 s",
    ]);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(100);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(200);
    expect(gaveUp).toBe("");
    const pid = s.child?.pid ?? 0;
    const grandchild = Number(lines.find((l) => l.startsWith("grandchild "))!.split(" ")[1]);
    expect(alive(pid)).toBe(true);
    expect(alive(grandchild)).toBe(true);

    await s.stop();
    await until("the grandchild to die", () => !alive(grandchild), 5000);
    expect(alive(pid)).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(s.runs).toBe(3);
    expect(s.child).toBeNull();
  });

  it("gives up after maxFastCrashes fast crashes in a row", async () => {
    const logs: string[] = [];
    let gaveUp = "";
    const s = supervise({
      name: "broken",
      command: process.execPath,
      args: [script("broken", 1000)],
      baseDelayMs: 20,
      maxDelayMs: 40,
      maxFastCrashes: 3,
      fastCrashMs: 10_000,
      log: (l: string) => logs.push(l),
      out: () => {},
      onGiveUp: (m: string) => (gaveUp = m),
    }) as Supervised;
    await until("giving up", () => gaveUp !== "");
    expect(gaveUp).toBe("[demo] broken exited (code 3) 3 times in a row within 10 s of starting; giving up. See the [broken] lines above.");
    await new Promise((r) => setTimeout(r, 200));
    expect(s.runs).toBe(3);
    expect(fs.readFileSync(path.join(dir, "broken.count"), "utf8")).toBe("3");
    await s.stop();
  });

  it("a command that cannot start counts as a crash", async () => {
    let gaveUp = "";
    const s = supervise({
      name: "missing",
      command: path.join(dir, "no-such-binary"),
      baseDelayMs: 10,
      maxFastCrashes: 2,
      log: () => {},
      out: () => {},
      onGiveUp: (m: string) => (gaveUp = m),
    }) as Supervised;
    await until("giving up", () => gaveUp !== "");
    expect(gaveUp).toMatch(/^\[demo\] missing exited \(could not start: spawn .*ENOENT\) 2 times in a row/);
    expect(s.runs).toBe(2);
  });
});
