"use client";

import { useEffect } from "react";

/** The message the portal listens for: `{ type, height }` (CSS pixels of our whole page). */
export const FRAME_HEIGHT_MESSAGE = "sage-connector:frame-height";

/**
 * Inside the marketplace's iframe, tells the portal how tall our page is, so it sizes the frame to
 * the content (no fixed height, no second scrollbar). Sent only to the exact origin of the page
 * framing us, and only when that origin is one the app allows to frame it (CSP frame-ancestors).
 */
export function FrameHeightReporter({ allowedOrigins }: { allowedOrigins: string[] }) {
  useEffect(() => {
    if (window.parent === window) return;
    const parentOrigin = framingOrigin();
    if (!parentOrigin || !allowedOrigins.includes(parentOrigin)) return;
    let last = -1;
    const report = () => {
      // the content's own height (the body), not the frame's viewport
      const height = Math.ceil(document.body.getBoundingClientRect().height);
      if (height === last) return;
      last = height;
      window.parent.postMessage({ type: FRAME_HEIGHT_MESSAGE, height }, parentOrigin);
    };
    const observer = new ResizeObserver(report);
    observer.observe(document.body);
    report();
    return () => observer.disconnect();
  }, [allowedOrigins]);
  return null;
}

function framingOrigin(): string | undefined {
  const ancestors = (window.location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  if (ancestors && ancestors.length > 0) return ancestors[0];
  try {
    return document.referrer ? new URL(document.referrer).origin : undefined;
  } catch {
    return undefined;
  }
}
