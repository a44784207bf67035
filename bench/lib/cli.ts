/** Small helpers for the bench scripts that load no app code (safe to import before the environment is set). */

/** `--name=value` / `--flag` arguments; env `BENCH_NAME` as fallback. */
export function arg(name: string, fallback: string): string;
export function arg(name: string, fallback?: string): string | undefined;
export function arg(name: string, fallback?: string): string | undefined {
  const prefix = `--${name}=`;
  const hit = process.argv.find((a) => a.startsWith(prefix));
  if (hit) return hit.slice(prefix.length);
  if (process.argv.includes(`--${name}`)) return "1";
  return process.env[`BENCH_${name.toUpperCase().replace(/-/g, "_")}`] ?? fallback;
}
export const numArg = (name: string, fallback: number) => Number(arg(name, String(fallback)));

export function percentile(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
export const median = (values: number[]) => percentile(values, 50);
export const mb = (bytes: number) => bytes / 1024 / 1024;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const verdict = (pass: boolean) => (pass ? "PASS" : "FAIL");
