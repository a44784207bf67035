#!/usr/bin/env node
// The npm registry reachable here carries only the linux-x64 builds of platform packages
// (@next/swc-*, @tailwindcss/oxide-*, …), so `npm install` writes a lockfile without the other
// platforms' optional entries, and `npm ci` then refuses it ("Missing: … from lock file").
// This adds those optional entries (version, os/cpu from the package name, no tarball), which
// `npm ci` skips on this platform exactly as it would with a complete lockfile.
// Run after any `npm install` that changes package-lock.json.
import fs from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const packages = lock.packages;

function platformOf(name) {
  const n = name.toLowerCase();
  const os = ["darwin", "win32", "linux", "freebsd", "android", "openbsd", "netbsd", "sunos", "aix"].find((o) => n.includes(o));
  const cpu = ["arm64", "x64", "ia32", "arm", "wasm32", "riscv64", "ppc64", "s390x", "loong64", "mips64el"].find((c) => new RegExp(`[-_]${c}([-_]|$)`).test(n));
  return { os, cpu };
}

let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const base = path ? `${path}/node_modules/${dep}` : `node_modules/${dep}`;
    const hoisted = `node_modules/${dep}`;
    if (packages[base] || packages[hoisted]) continue;
    const { os, cpu } = platformOf(dep);
    const entry = { version: version.replace(/^[\^~=]/, ""), optional: true };
    if (cpu === "wasm32") entry.cpu = ["wasm32"];
    else {
      if (os) entry.os = [os];
      if (cpu) entry.cpu = [cpu];
    }
    if (!entry.os && !entry.cpu) continue; // not a platform package: leave it to npm
    packages[hoisted] = entry;
    added++;
  }
}
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
console.log(`complete-lockfile: added ${added} optional platform entries`);
