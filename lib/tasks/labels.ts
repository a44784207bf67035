import type { OrderType, TaskState } from "@/db/schema/sync-tasks";

export type { OrderType, TaskState };

/** Words for the task vocabulary (DESIGN.md: one vocabulary everywhere). Safe to import in client components. */
export const TASK_STATE_LABELS: Record<TaskState, string> = {
  pending: "Pending",
  processing: "Processing",
  synced: "Synced",
  action_required: "Action required",
  failed: "Failed",
  ignored: "Ignored",
};
export const TASK_STATE_ORDER = Object.keys(TASK_STATE_LABELS) as TaskState[];

export const ORDER_TYPE_FILTER_LABELS: Record<OrderType, string> = { sales: "Sales", change: "Change", billing: "Billing", cancellation: "Cancellation" };
export const ORDER_TYPE_ORDER = Object.keys(ORDER_TYPE_FILTER_LABELS) as OrderType[];

export const TASK_STATE_STYLE: Record<TaskState, string> = {
  pending: "bg-sky-100 text-sky-800",
  processing: "bg-indigo-100 text-indigo-800",
  synced: "bg-emerald-100 text-emerald-800",
  action_required: "bg-violet-100 text-violet-800",
  failed: "bg-red-100 text-red-800",
  ignored: "bg-slate-200 text-slate-700",
};
