import { describe, expect, it } from "vitest";
import { safeAppPath, tasksBackPath } from "@/lib/auth/redirects";

const APP = "http://localhost:3000";

describe("sign-in redirect targets: same-origin paths only", () => {
  it("keeps our own paths, with query and hash", () => {
    expect(safeAppPath("/tasks?state=failed#top", APP)).toBe("/tasks?state=failed#top");
    expect(safeAppPath("/install?marketplace=demo-marketplace&account=RES-1", APP)).toBe("/install?marketplace=demo-marketplace&account=RES-1");
    expect(safeAppPath("http://localhost:3000/mapping", APP)).toBe("/mapping");
  });

  it("refuses everything a browser could read as another host", () => {
    for (const raw of [
      "//evil.test/phish",
      "/\\evil.test/phish",
      "/\\/evil.test/phish",
      "\\\\evil.test",
      "/\t/evil.test/phish",
      "/\n/evil.test",
      "/\r//evil.test",
      " //evil.test",
      "/ /evil.test",
      "http://evil.test/dashboard",
      "https://localhost:3000.evil.test/",
      "javascript:alert(1)",
      "evil.test",
      "/.//evil.test",
      "/x/..//evil.test",
      "/%2e//evil.test",
      "",
    ]) {
      expect(safeAppPath(raw, APP), JSON.stringify(raw)).toBe("/dashboard");
    }
  });

  it("encoded variants stay paths on our origin (never decoded into a host)", () => {
    expect(safeAppPath("/%2F%2Fevil.test", APP)).toBe("/%2F%2Fevil.test");
    expect(safeAppPath("/%5Cevil.test", APP)).toBe("/%5Cevil.test");
    // the decoded form of an encoded callbackUrl is refused
    expect(safeAppPath(decodeURIComponent("%2F%5Cevil.test"), APP)).toBe("/dashboard");
  });
});

describe("tasksBackPath (Back to tasks from the Mapping screen)", () => {
  it("keeps a Tasks page path with its filters", () => {
    expect(tasksBackPath("/tasks")).toBe("/tasks");
    expect(tasksBackPath("/tasks?state=action_required&q=PR-1")).toBe("/tasks?state=action_required&q=PR-1");
  });
  it("refuses anything else: another page, another host, a look-alike", () => {
    for (const bad of ["/dashboard", "//evil.test/tasks", "https://evil.test/tasks", "/tasksX", "/\\evil.test", "", undefined, 42]) {
      expect(tasksBackPath(bad), String(bad)).toBeUndefined();
    }
  });
});
