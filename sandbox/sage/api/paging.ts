// Sage v3.1 list envelope (developer.sage.com pagination guide):
// { $total, $page, $next, $back, $itemsPerPage, $items }, items_per_page default 20 / max 200,
// page past the end → last page, $next/$back relative to the API root with the query string, null at ends.

export interface Envelope<T> {
  $total: number;
  $page: number;
  $next: string | null;
  $back: string | null;
  $itemsPerPage: number;
  $items: T[];
}

export const DEFAULT_ITEMS_PER_PAGE = 20;
export const MAX_ITEMS_PER_PAGE = 200;

function toInt(value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  return Number.isInteger(n) ? n : fallback;
}

/**
 * @param resourcePath path relative to the API root, e.g. "/contacts"
 * @param query the request's query parameters (kept in $next/$back)
 */
export function paginate<T>(items: T[], resourcePath: string, query: Record<string, string>): Envelope<T> {
  let perPage = toInt(query.items_per_page, DEFAULT_ITEMS_PER_PAGE);
  if (perPage < 1) perPage = 1;
  if (perPage > MAX_ITEMS_PER_PAGE) perPage = MAX_ITEMS_PER_PAGE;
  const total = items.length;
  const lastPage = Math.max(1, Math.ceil(total / perPage));
  let page = toInt(query.page, 1);
  if (page < 1) page = 1;
  if (page > lastPage) page = lastPage;

  const link = (p: number): string => {
    const params = new URLSearchParams();
    params.set("page", String(p));
    params.set("items_per_page", String(perPage));
    for (const [k, v] of Object.entries(query)) {
      if (k !== "page" && k !== "items_per_page") params.set(k, v);
    }
    return `${resourcePath}?${params.toString()}`;
  };

  return {
    $total: total,
    $page: page,
    $next: page < lastPage ? link(page + 1) : null,
    $back: page > 1 ? link(page - 1) : null,
    $itemsPerPage: perPage,
    $items: items.slice((page - 1) * perPage, page * perPage),
  };
}

/**
 * `attributes`: absent → slim items (id, displayed_as, $path); "all" → everything;
 * "a,b" → slim plus the listed attributes.
 */
export function selectAttributes(full: Record<string, unknown>, attributes: string | undefined): Record<string, unknown> {
  const slim: Record<string, unknown> = { id: full.id, displayed_as: full.displayed_as, $path: full.$path };
  if (attributes === undefined || attributes.trim() === "") return slim;
  if (attributes.trim() === "all") return full;
  for (const name of attributes.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (name in full) slim[name] = full[name];
  }
  return slim;
}
