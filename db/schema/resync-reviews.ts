import { pgTable, uuid, text, timestamp, integer, unique, uniqueIndex, index } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { tenants } from "./tenants";
import { connections } from "./connections";
import { marketplaceCustomers } from "./marketplace";

/**
 * checking: existing Sage contacts are read and every customer is matched (the flow runs);
 * awaiting_confirmation: some customers have no Sage contact — nothing is created for them until
 * the reseller confirms; creating: confirmed, the missing contacts are being created;
 * completed: nothing left to decide (all matched, or created); superseded: a newer review replaced it.
 */
export const RESYNC_REVIEW_STATUSES = ["checking", "awaiting_confirmation", "creating", "completed", "superseded"] as const;
export type ResyncReviewStatus = (typeof RESYNC_REVIEW_STATUSES)[number];
/** the statuses that hold contact creation for the tenant */
export const RESYNC_HOLDING_STATUSES = ["checking", "awaiting_confirmation"] as const;

/**
 * Re-sync review (re-sync guard): after a (re)connect that finds no Sage contact id on any customer
 * mapping of a tenant that synced before, the business's existing Sage contacts are matched to
 * every marketplace customer before anything is created. One active review per tenant.
 */
export const resyncReviews = pgTable(
  "resync_reviews",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    connectionId: uuid("connection_id").notNull().references(() => connections.id),
    businessId: text("business_id").notNull(),
    businessName: text("business_name"),
    status: text("status", { enum: RESYNC_REVIEW_STATUSES }).notNull().default("checking"),
    customersTotal: integer("customers_total").notNull().default(0),
    customersChecked: integer("customers_checked").notNull().default(0),
    contactsRead: integer("contacts_read").notNull().default(0),
    matched: integer("matched").notNull().default(0),
    toCreate: integer("to_create").notNull().default(0),
    created: integer("created").notNull().default(0),
    /** Action Log actor label of who (re)connected */
    startedBy: text("started_by").notNull(),
    confirmedBy: text("confirmed_by"),
    confirmedAt: timestamp("confirmed_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("resync_reviews_one_active_per_tenant")
      .on(t.tenantId)
      .where(sql`${t.status} in ('checking', 'awaiting_confirmation', 'creating')`),
    index("resync_reviews_tenant_created_idx").on(t.tenantId, t.createdAt),
  ],
);

export const RESYNC_OUTCOMES = ["matched", "create", "created"] as const;
export type ResyncOutcome = (typeof RESYNC_OUTCOMES)[number];
export const RESYNC_MATCH_BY = ["stored_id", "email", "reference", "name"] as const;
export type ResyncMatchBy = (typeof RESYNC_MATCH_BY)[number];

/** The outcome of one marketplace customer in a review: matched to contact X (by …), or would be created. */
export const resyncReviewCustomers = pgTable(
  "resync_review_customers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    reviewId: uuid("review_id").notNull().references(() => resyncReviews.id, { onDelete: "cascade" }),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    customerId: uuid("customer_id").notNull().references(() => marketplaceCustomers.id),
    outcome: text("outcome", { enum: RESYNC_OUTCOMES }).notNull(),
    matchedBy: text("matched_by", { enum: RESYNC_MATCH_BY }),
    sageContactId: text("sage_contact_id"),
    sageContactName: text("sage_contact_name"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("resync_review_customers_review_customer_uq").on(t.reviewId, t.customerId), index("resync_review_customers_review_outcome_idx").on(t.reviewId, t.outcome)],
);

export type ResyncReview = typeof resyncReviews.$inferSelect;
