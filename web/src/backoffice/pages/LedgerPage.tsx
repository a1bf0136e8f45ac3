// The wallet ledger's invariant audit, run on demand.
import { useState } from 'react';
import { formatDateTime } from '../../shared/format.ts';
import { Alert, Badge, ErrorAlert, Section, useAction } from '../../shared/ui.tsx';
import { useBackOffice } from '../context.ts';

interface Report {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

export function LedgerPage() {
  const { session } = useBackOffice();
  const [report, setReport] = useState<{ report: Report; at: string } | undefined>(undefined);
  const action = useAction();
  const run = async () => {
    const result = await action.run(() => session.api<Report>('GET', '/admin/v1/ledger/check'));
    if (result) setReport({ report: result, at: new Date().toISOString() });
  };
  return (
    <>
      <h1>Ledger check</h1>
      <p>
        Runs the wallet’s invariant audit: every transfer balanced, every balance equal to its entries,
        nothing negative that may not be.
      </p>
      <button type="button" onClick={() => void run()} disabled={action.busy}>
        {action.busy ? 'Checking…' : 'Run the ledger check'}
      </button>
      <ErrorAlert error={action.error} />
      {report ? (
        <Section title={`Result of ${formatDateTime(report.at)}`}>
          <Alert tone={report.report.ok ? 'success' : 'error'}>
            <span data-testid="ledger-result">
              {report.report.ok ? 'All checks passed.' : 'Some checks failed.'}
            </span>
          </Alert>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Check</th>
                  <th scope="col">Result</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {report.report.checks.map((check) => (
                  <tr key={check.name}>
                    <td>{check.name}</td>
                    <td>
                      <Badge tone={check.ok ? 'good' : 'bad'}>{check.ok ? 'OK' : 'Failed'}</Badge>
                    </td>
                    <td>{check.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
      ) : null}
    </>
  );
}
