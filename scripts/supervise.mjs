// A small process supervisor for `npm run demo`: runs one command in its own process group, prefixes
// its output, and restarts it when it exits while not stopping — after a backoff (baseDelayMs, doubling
// per consecutive fast crash, capped at maxDelayMs). A run shorter than fastCrashMs is a fast crash;
// after maxFastCrashes fast crashes in a row it gives up (onGiveUp). stop() signals the whole group
// (SIGTERM, then SIGKILL after graceMs), so grandchildren (npx → next start) go too. If the supervising
// process itself exits, every live group is killed (no orphans left holding the ports).
import { spawn } from "node:child_process";

const live = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) killTree(child, "SIGKILL");
  });
}

function running(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** Signals a child's whole process group (falls back to the child alone). */
export function killTree(child, signal) {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

/**
 * @param {{
 *   name: string, command: string, args?: string[], cwd?: string, env?: NodeJS.ProcessEnv,
 *   baseDelayMs?: number, maxDelayMs?: number, maxFastCrashes?: number, fastCrashMs?: number, graceMs?: number,
 *   log?: (line: string) => void, out?: (line: string, stream: "stdout" | "stderr") => void,
 *   onStart?: (child: import("node:child_process").ChildProcess, run: number) => void,
 *   onGiveUp?: (message: string) => void,
 * }} o
 */
export function supervise(o) {
  const baseDelayMs = o.baseDelayMs ?? 1000;
  const maxDelayMs = o.maxDelayMs ?? 10_000;
  const maxFastCrashes = Math.max(1, o.maxFastCrashes ?? 5);
  const fastCrashMs = o.fastCrashMs ?? 30_000;
  const graceMs = o.graceMs ?? 5000;
  const log = o.log ?? ((line) => console.error(line));
  const out = o.out ?? ((line, stream) => (stream === "stderr" ? process.stderr : process.stdout).write(`[${o.name}] ${line}\n`));
  installExitHook();

  let child = null;
  let stopping = false;
  let fastCrashes = 0;
  let runs = 0;
  let restartTimer = null;

  function start() {
    runs += 1;
    const startedAt = Date.now();
    const c = spawn(o.command, o.args ?? [], { cwd: o.cwd, env: o.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child = c;
    live.add(c);
    for (const [stream, kind] of [[c.stdout, "stdout"], [c.stderr, "stderr"]]) {
      let buf = "";
      stream.setEncoding("utf8");
      stream.on("data", (d) => {
        buf += d;
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        for (const l of lines) out(l, kind);
      });
      stream.on("end", () => {
        if (buf) out(buf, kind);
        buf = "";
      });
    }
    let ended = false;
    const onEnd = (how) => {
      if (ended) return;
      ended = true;
      live.delete(c);
      if (child === c) child = null;
      if (stopping) return;
      fastCrashes = Date.now() - startedAt < fastCrashMs ? fastCrashes + 1 : 0;
      if (fastCrashes >= maxFastCrashes) {
        stopping = true;
        const msg = `[demo] ${o.name} exited (${how}) ${fastCrashes} times in a row within ${fastCrashMs / 1000} s of starting; giving up. See the [${o.name}] lines above.`;
        log(msg);
        o.onGiveUp?.(msg);
        return;
      }
      const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, fastCrashes - 1));
      log(`[demo] ${o.name} exited (${how}), restarting in ${delay / 1000} s`);
      restartTimer = setTimeout(() => {
        restartTimer = null;
        if (!stopping) start();
      }, delay);
    };
    c.on("exit", (code, signal) => onEnd(signal ? `signal ${signal}` : `code ${code}`));
    c.on("error", (e) => {
      // spawn failures (ENOENT, EACCES) end the run; errors of a running child are only reported
      if (c.pid === undefined) onEnd(`could not start: ${e.message}`);
      else log(`[demo] ${o.name}: ${e.message}`);
    });
    if (c.pid !== undefined) log(`[demo] ${o.name} started (pid ${c.pid})`);
    o.onStart?.(c, runs);
  }

  start();

  return {
    get child() {
      return child;
    },
    get runs() {
      return runs;
    },
    /** Stops the child (its process group) and never restarts it. */
    stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = null;
      const c = child;
      if (!c || !running(c)) return Promise.resolve();
      return new Promise((resolve) => {
        const force = setTimeout(() => killTree(c, "SIGKILL"), graceMs);
        c.once("exit", () => {
          clearTimeout(force);
          // anything left in the group (a grandchild that ignored SIGTERM) goes too
          killTree(c, "SIGKILL");
          resolve();
        });
        killTree(c, "SIGTERM");
      });
    },
  };
}
