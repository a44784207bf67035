import type { Reply } from "../../http";
import type { RequestContext } from "../../router";
import type { BusinessData } from "../data";
import type { SageBusiness, SageUser } from "../world";

export interface ApiContext {
  user: SageUser;
  business: SageBusiness;
  data: BusinessData;
}

export interface Operation {
  method: string;
  /** Path template relative to the API root, e.g. "/businesses/:key". */
  path: string;
  /** Route name for the request log and faults, e.g. "sage.sales_invoices.create". */
  name: string;
  /** User-level operations (businesses, user) do not need a business. */
  userLevel?: boolean;
  userHandler?: (ctx: RequestContext, user: SageUser) => Reply | Promise<Reply>;
  handler?: (ctx: RequestContext, api: ApiContext) => Reply | Promise<Reply>;
  /** For creates: the body namespace that may carry `idempotency_id` (e.g. "sales_invoice"). */
  idempotentWrapper?: string;
}
