// User-accounts API: GET /businesses, GET|PUT /businesses/{key}, GET|PUT /user.
import { isRecord, json, sageError, type Reply } from "../../http";
import { jsonOf, type RequestContext } from "../../router";
import type { Sandbox } from "../../context";
import { COUNTRY_NAMES } from "../seed-users";
import type { SageBusiness, SageUser } from "../world";
import { sageTimestamp } from "../world";
import { paginate, selectAttributes } from "./paging";

export function businessResource(b: SageBusiness): Record<string, unknown> {
  return {
    id: b.id,
    displayed_as: b.name,
    $path: `/businesses/${b.id}`,
    created_at: b.created_at,
    updated_at: b.updated_at,
    name: b.name,
    address_line_1: b.address_line_1,
    address_line_2: "",
    city: b.city,
    postal_code: b.postal_code,
    country: { id: b.country, displayed_as: COUNTRY_NAMES[b.country], $path: `/countries/${b.country}` },
    region: "",
    telephone: b.telephone,
    mobile: "",
    website: b.website,
    is_demo: false,
    ni_based: false,
    subscriptions: [
      {
        id: `${b.id.slice(0, 24)}00000001`,
        displayed_as: "Accounting",
        created_at: b.created_at,
        updated_at: b.updated_at,
        active: b.subscriptionActive,
        status: b.subscriptionActive ? "active" : "expired",
      },
    ],
  };
}

export function userResource(u: SageUser): Record<string, unknown> {
  return {
    id: u.id,
    displayed_as: `${u.first_name} ${u.last_name}`,
    $path: "/user",
    created_at: u.created_at,
    updated_at: u.updated_at,
    first_name: u.first_name,
    last_name: u.last_name,
    initials: `${u.first_name.charAt(0)}${u.last_name.charAt(0)}`,
    email: u.email,
    locale: u.locale,
  };
}

function userBusinesses(sb: Sandbox, user: SageUser): SageBusiness[] {
  return user.businessIds.map((id) => sb.sage.businesses.get(id)).filter((b): b is SageBusiness => !!b);
}

export function listBusinesses(ctx: RequestContext, user: SageUser): Reply {
  const items = userBusinesses(ctx.sb, user).map((b) => selectAttributes(businessResource(b), ctx.query.attributes));
  return json(200, paginate(items, "/businesses", ctx.query));
}

function findUserBusiness(ctx: RequestContext, user: SageUser, key: string): SageBusiness | undefined {
  const id = key === "lead" ? user.leadBusinessId : key;
  if (!user.businessIds.includes(id)) return undefined;
  return ctx.sb.sage.businesses.get(id);
}

export function getBusiness(ctx: RequestContext, user: SageUser): Reply {
  const key = ctx.params.key ?? "";
  const b = findUserBusiness(ctx, user, key);
  if (!b) return sageError(404, "RecordNotFound", "Record not found.", "key");
  return json(200, businessResource(b));
}

export function putBusiness(ctx: RequestContext, user: SageUser): Reply {
  const key = ctx.params.key ?? "";
  const b = findUserBusiness(ctx, user, key);
  if (!b) return sageError(404, "RecordNotFound", "Record not found.", "key");
  const body = jsonOf(ctx);
  const patch = body.ok && isRecord(body.value) && isRecord(body.value.business) ? body.value.business : null;
  if (!patch) return sageError(422, "RecordInvalid", "business is missing.", "business");
  for (const field of ["name", "address_line_1", "city", "postal_code", "telephone", "website"] as const) {
    const v = patch[field];
    if (typeof v === "string") b[field] = v;
  }
  b.updated_at = sageTimestamp(ctx.sb.now());
  return json(200, businessResource(b));
}

export function getUser(_ctx: RequestContext, user: SageUser): Reply {
  return json(200, userResource(user));
}

export function putUser(ctx: RequestContext, user: SageUser): Reply {
  const body = jsonOf(ctx);
  const patch = body.ok && isRecord(body.value) && isRecord(body.value.user) ? body.value.user : null;
  if (!patch) return sageError(422, "RecordInvalid", "user is missing.", "user");
  for (const field of ["first_name", "last_name", "locale"] as const) {
    const v = patch[field];
    if (typeof v === "string") user[field] = v;
  }
  user.updated_at = sageTimestamp(ctx.sb.now());
  return json(200, userResource(user));
}
