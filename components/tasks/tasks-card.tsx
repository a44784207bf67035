"use client";

import Link from "next/link";
import { useFormat } from "@/components/format";
import type { TaskState } from "@/lib/tasks/labels";
import { TASK_STATE_LABELS, TASK_STATE_ORDER, TASK_STATE_STYLE } from "@/lib/tasks/labels";

/** Dashboard: tasks per state, each linking to the filtered task list. */
export function TaskCounts({ counts }: { counts: Record<TaskState, number> }) {
  const f = useFormat();
  return (
    <ul className="grid grid-cols-2 gap-3 sm:grid-cols-3" aria-label="Tasks per state">
      {TASK_STATE_ORDER.map((s) => (
        <li key={s}>
          <Link
            href={`/tasks?state=${s}`}
            className="flex items-center justify-between rounded-md border border-slate-200 px-3 py-2 text-sm hover:bg-slate-50"
            data-testid={`dashboard-count-${s}`}
          >
            <span className={`rounded px-2 py-0.5 text-xs ${TASK_STATE_STYLE[s]}`}>{TASK_STATE_LABELS[s]}</span>
            <span className="text-lg font-semibold tabular-nums">{f.number(counts[s])}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}
