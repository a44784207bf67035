/**
 * The import boundaries of DESIGN.md ("Rules of the house"), checked by `npm test` (scripts/test.mjs
 * runs `depcruise` first; a violation fails the run). Type-only imports count too: a boundary is about
 * what a part may know, not only what it loads.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "lib-not-app-or-inngest",
      comment: "Data flows one way: app/ and inngest/ call lib/; nothing in lib/ imports app/ or inngest/.",
      severity: "error",
      from: { path: "^lib/" },
      to: { path: "^(app|inngest)/" },
    },
    {
      name: "sage-targets-not-db",
      comment: "lib/sage/ (the Sage targets) knows no database: credentials and pacing are handed in by the caller.",
      severity: "error",
      from: { path: "^lib/sage/" },
      to: { path: "^db/" },
    },
    {
      name: "sage-targets-not-the-app",
      comment: "lib/sage/ is the outside edge: it may use lib/config and lib/http helpers, never the app's domain (connections, sync, mapping…).",
      severity: "error",
      from: { path: "^lib/sage/" },
      to: { path: "^lib/", pathNot: "^lib/(sage|config|http|crypto)/" },
    },
    {
      name: "target-clients-stay-in-their-folder",
      comment: "Nothing outside lib/sage/<target>/ imports a target's client: the rest of the app calls the SageTarget interface (lib/sage/target.ts, lib/sage/targets.ts).",
      severity: "error",
      from: { path: "^(?!lib/sage/)" },
      to: { path: "^lib/sage/[^/]+/" },
    },
    {
      name: "sandbox-is-a-peer",
      comment: "sandbox/ is written from Sage's published description, not from our code: it imports nothing of lib/ or db/.",
      severity: "error",
      from: { path: "^sandbox/" },
      to: { path: "^(lib|db)/" },
    },
    {
      name: "components-not-db",
      comment: "React components get their data from lib/ (server) or the API (client), never from db/ directly.",
      severity: "error",
      from: { path: "^components/" },
      to: { path: "^db/" },
    },
    {
      name: "no-circular-between-parts",
      comment: "A cycle between the top-level parts hides which way data flows.",
      severity: "error",
      from: { path: "^(lib|db|inngest|components)/" },
      to: { circular: true, path: "^(app|inngest)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|\\.next|\\.data)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"] },
  },
};
