import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // PGlite ships WASM + data files; node-postgres has optional native bits: load both from node_modules.
  serverExternalPackages: ["@electric-sql/pglite", "pg"],
  poweredByHeader: false,
  // the build type-checks the app only (tsconfig.build.json), so `npm ci --omit=dev && npm run build` works
  typescript: { tsconfigPath: "tsconfig.build.json" },
  // NEXT_DIST_DIR lets two builds share a checkout (e.g. a second e2e run on other ports).
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  // Security headers are set at run time in proxy.ts (CSP frame-ancestors depends on configuration).
};

export default nextConfig;
