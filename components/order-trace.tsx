import Link from "next/link";
import { formatDateTime, formatNumber, type FormatContext } from "@/lib/locale/format";
import { TASK_STATE_LABELS, TASK_STATE_STYLE } from "@/lib/tasks/labels";
import type { OrderTrace, OrderTraceEntry, OrderTraceEntryKind } from "@/lib/trace/order-trace";

/**
 * One order's trace as a timeline table (server component, no data fetching): time, duration, what,
 * status, and the details of each entry expandable. Sage calls show method, path, status, duration,
 * the attempt (a retry badge) and the error Sage gave. Used by the reseller's page
 * (app/tasks/[taskId]/trace) and by support's; `basePath` is where the order's own pages live for
 * the viewer (e.g. "/tasks" or "/support/tenants/<id>/tasks"), `backLink` the link above the table.
 */
export type OrderTraceViewProps = {
  trace: OrderTrace;
  /** the viewer's locale and time zone (lib/locale/request.ts requestFormatContext) */
  format: FormatContext;
  /** where the viewer's task list lives: the header links to it searched for the order (default "/tasks") */
  basePath?: string;
  /** a link shown above the timeline (e.g. back to the task list) */
  backLink?: { href: string; label: string };
  /** show the redacted request and response bodies of Sage calls (default true) */
  showBodies?: boolean;
};

const KIND_LABEL: Record<OrderTraceEntryKind, string> = {
  arrival: "Arrival",
  state_change: "Task",
  run: "Flow run",
  step: "Step",
  sage_call: "Sage call",
  document: "Document",
  notification: "Notification",
  log: "Action Log",
};

const TONE: Record<OrderTraceEntry["tone"], string> = {
  neutral: "bg-slate-100 text-slate-700",
  success: "bg-green-100 text-green-800",
  warning: "bg-amber-100 text-amber-800",
  error: "bg-red-100 text-red-800",
};

function duration(ms: number | undefined, locale: string): string {
  if (ms === undefined) return "";
  if (ms < 1000) return `${formatNumber(ms, locale, { maximumFractionDigits: 0 })} ms`;
  if (ms < 120_000) return `${formatNumber(ms / 1000, locale, { maximumFractionDigits: 1 })} s`;
  return `${formatNumber(ms / 60_000, locale, { maximumFractionDigits: 1 })} min`;
}

function Entry({ entry, format, showBodies }: { entry: OrderTraceEntry; format: FormatContext; showBodies: boolean }) {
  const call = entry.sageCall;
  const details = showBodies ? entry.details : entry.details.filter((d) => !/^(Request|Response) \(redacted\)$/.test(d.label));
  return (
    <tr className="border-t border-slate-200 align-top" data-testid="trace-entry" data-kind={entry.kind}>
      <td className="whitespace-nowrap py-2 pr-3 text-xs text-slate-500">{formatDateTime(entry.at, format, { seconds: true })}</td>
      <td className="whitespace-nowrap py-2 pr-3 text-right text-xs tabular-nums text-slate-500">{duration(entry.durationMs, format.locale)}</td>
      <td className="whitespace-nowrap py-2 pr-3 text-xs font-medium text-slate-600">{KIND_LABEL[entry.kind]}</td>
      <td className="py-2 pr-3 text-sm">
        {call ? (
          <span className="font-mono text-xs">
            <span className="font-semibold" data-testid="sage-call-method">{call.method}</span> <span data-testid="sage-call-path">{call.path}</span>
            {call.retry && (
              <span className="ml-2 rounded bg-amber-100 px-1.5 py-0.5 font-sans text-[11px] font-medium text-amber-800" data-testid="retry-badge">
                retry · attempt {call.attempt}
              </span>
            )}
            {call.shared && <span className="ml-2 rounded bg-slate-100 px-1.5 py-0.5 font-sans text-[11px] text-slate-600">shared with other orders</span>}
            {call.errorMessage && <span className="mt-1 block font-sans text-xs text-red-700">{call.errorMessage}</span>}
          </span>
        ) : (
          <span>{entry.title}</span>
        )}
        {entry.link && (
          <a href={entry.link.href} className="ml-2 text-brand underline" {...(entry.link.external ? { target: "_blank", rel: "noopener noreferrer" } : {})} data-testid="trace-document-link">
            {entry.link.label}
          </a>
        )}
        {details.length > 0 && (
          <details className="mt-1">
            <summary className="cursor-pointer text-xs text-slate-500">Details</summary>
            <dl className="mt-1 grid grid-cols-[max-content_1fr] gap-x-3 gap-y-1 text-xs">
              {details.map((d, i) => (
                <div key={i} className="contents">
                  <dt className="text-slate-500">{d.label}</dt>
                  <dd className="break-all font-mono text-slate-700">{d.value}</dd>
                </div>
              ))}
            </dl>
          </details>
        )}
      </td>
      <td className="whitespace-nowrap py-2 text-xs">{entry.status && <span className={`rounded px-1.5 py-0.5 font-medium ${TONE[entry.tone]}`}>{entry.status}</span>}</td>
    </tr>
  );
}

export function OrderTraceView({ trace, format, basePath = "/tasks", backLink, showBodies = true }: OrderTraceViewProps) {
  const { task, counts } = trace;
  return (
    <div data-testid="order-trace">
      {backLink && (
        <p className="mb-3 text-sm">
          <Link href={backLink.href} className="text-brand hover:underline">
            {backLink.label}
          </Link>
        </p>
      )}
      <dl className="mb-4 grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4">
        <div>
          <dt className="text-xs text-slate-500">Order</dt>
          <dd className="font-mono">
            <Link href={`${basePath}?q=${encodeURIComponent(task.orderId)}`} className="text-brand hover:underline">
              {task.orderId}
            </Link>
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Customer</dt>
          <dd>{task.customerName ?? task.customerId}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Type</dt>
          <dd>
            {task.orderType} ({task.requestType})
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">State</dt>
          <dd>
            <span className={`rounded px-1.5 py-0.5 text-xs font-medium ${TASK_STATE_STYLE[task.state]}`}>{TASK_STATE_LABELS[task.state]}</span>
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Currency</dt>
          <dd>{task.currency ?? "—"}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Arrived by</dt>
          <dd>{task.source === "push" ? "webhook" : "Check Changes"}</dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Sage calls</dt>
          <dd>
            {counts.sageCalls} ({counts.retries} {counts.retries === 1 ? "retry" : "retries"}, {counts.failedCalls} failed)
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-500">Created</dt>
          <dd>{formatDateTime(task.createdAt, format)}</dd>
        </div>
        {task.reason && (
          <div className="col-span-2 sm:col-span-4">
            <dt className="text-xs text-slate-500">Reason</dt>
            <dd>{task.reasonLink ? <Link href={task.reasonLink} className="text-brand hover:underline">{task.reason}</Link> : task.reason}</dd>
          </div>
        )}
      </dl>
      {trace.notes.length > 0 && (
        <ul className="mb-3 list-disc pl-5 text-sm text-slate-600" data-testid="trace-notes">
          {trace.notes.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      )}
      <div className="overflow-x-auto">
        <table className="w-full text-left">
          <thead>
            <tr className="text-xs uppercase tracking-wide text-slate-500">
              <th className="py-2 pr-3 font-medium">Time</th>
              <th className="py-2 pr-3 text-right font-medium">Duration</th>
              <th className="py-2 pr-3 font-medium">Kind</th>
              <th className="py-2 pr-3 font-medium">What</th>
              <th className="py-2 font-medium">Status</th>
            </tr>
          </thead>
          <tbody>
            {trace.entries.map((e) => (
              <Entry key={e.id} entry={e} format={format} showBodies={showBodies} />
            ))}
          </tbody>
        </table>
      </div>
      {trace.truncated && (
        <p className="mt-3 text-sm text-amber-700">
          Showing the first {trace.entries.length} of {trace.totalEntries} entries.
        </p>
      )}
    </div>
  );
}
