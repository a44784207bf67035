import { SAGE_RECORD_KINDS, SAGE_RECORD_LABELS, type SageCapabilityTable } from "@/lib/sage/target";

const mark = (yes: boolean) => (yes ? "✓" : "—");

/** What a Sage product's API can read, create and update — the sync checks the same table before it writes. */
export function CapabilityTable({ label, capabilities, exchange }: { label: string; capabilities: SageCapabilityTable; exchange: "api" | "file_exchange" }) {
  return (
    <div data-testid="capability-table">
      <table className="w-full text-left text-sm">
        <caption className="mb-2 text-left text-sm text-slate-600">
          What the connector can do in {label} ({exchange === "api" ? "one API call per record" : "by files exchanged with Sage"})
        </caption>
        <thead>
          <tr className="border-b border-slate-200 text-slate-600">
            <th scope="col" className="py-1 font-medium">Records</th>
            <th scope="col" className="py-1 font-medium">Read</th>
            <th scope="col" className="py-1 font-medium">Create</th>
            <th scope="col" className="py-1 font-medium">Update</th>
          </tr>
        </thead>
        <tbody>
          {SAGE_RECORD_KINDS.map((kind) => {
            const c = capabilities[kind];
            return (
              <tr key={kind} className="border-b border-slate-100" data-kind={kind}>
                <th scope="row" className="py-1 font-normal">{SAGE_RECORD_LABELS[kind]}</th>
                <td aria-label={c.read ? "yes" : "no"}>{mark(c.read)}</td>
                <td aria-label={c.create ? "yes" : "no"}>{mark(c.create)}</td>
                <td aria-label={c.update ? "yes" : "no"}>{mark(c.update)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
