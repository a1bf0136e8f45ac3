// The withdrawal review queue (contract §4): finance approves or rejects, with a reason.
import { useState } from 'react';
import { formatDateTime, humanize } from '../../shared/format.ts';
import { formatMoney } from '../../shared/money.ts';
import { Link } from '../../shared/router.tsx';
import {
  Alert,
  Badge,
  Dialog,
  ErrorAlert,
  Loading,
  SelectField,
  useAction,
  useLoad,
} from '../../shared/ui.tsx';
import { base, useBackOffice } from '../context.ts';

interface Withdrawal {
  withdrawalId: string;
  playerId: string;
  amount: string;
  currency: string;
  method: string;
  status: string;
  holderName: string | null;
  account: string | null;
  psp: string | null;
  riskOutcome: string | null;
  riskReasons: string[];
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

const statuses = ['in_review', 'requested', 'approved', 'processing', 'paid', 'rejected', 'failed', 'all'];

export function WithdrawalsPage() {
  const { session, can } = useBackOffice();
  const [status, setStatus] = useState('in_review');
  const [version, setVersion] = useState(0);
  const [deciding, setDeciding] = useState<
    { withdrawal: Withdrawal; decision: 'approve' | 'reject' } | undefined
  >(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const list = useLoad(
    (signal) =>
      session.api<{ items: Withdrawal[] }>(
        'GET',
        `/admin/v1/withdrawals?limit=100${status === 'all' ? '' : `&status=${status}`}`,
        undefined,
        { signal },
      ),
    `${status}-${version}`,
  );
  const decide = can('withdrawals.decide');
  return (
    <>
      <h1>Withdrawals</h1>
      <div className="filters">
        <SelectField
          label="Show"
          name="withdrawal-status"
          options={statuses.map((value) => ({ value, label: value === 'all' ? 'All' : humanize(value) }))}
          value={status}
          onChange={(event) => setStatus(event.target.value)}
        />
        <button type="button" className="secondary" onClick={() => setVersion((value) => value + 1)}>
          Refresh
        </button>
      </div>
      {done ? <Alert tone="success">{done}</Alert> : null}
      <ErrorAlert error={list.error} />
      {!list.data ? (
        list.error ? null : (
          <Loading />
        )
      ) : list.data.items.length === 0 ? (
        <p className="muted">No withdrawals here.</p>
      ) : (
        <div className="table-wrap card">
          <table data-testid="withdrawals">
            <caption className="sr-only">Withdrawals, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Requested</th>
                <th scope="col">Player</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">To</th>
                <th scope="col">Risk</th>
                <th scope="col">Status</th>
                {decide ? <th scope="col">Decision</th> : null}
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((item) => (
                <tr key={item.withdrawalId}>
                  <td>{formatDateTime(item.createdAt)}</td>
                  <td>
                    {can('players.read') ? (
                      <Link to={`${base}/players/${item.playerId}`}>{item.holderName ?? item.playerId}</Link>
                    ) : (
                      (item.holderName ?? item.playerId)
                    )}
                  </td>
                  <td className="num amount">{formatMoney(item.amount, item.currency)}</td>
                  <td className="mono">
                    {item.method} {item.account ?? ''}
                  </td>
                  <td>{item.riskReasons.length > 0 ? item.riskReasons.map(humanize).join(', ') : '—'}</td>
                  <td>
                    <Badge
                      tone={
                        item.status === 'paid'
                          ? 'good'
                          : item.status === 'rejected' || item.status === 'failed'
                            ? 'bad'
                            : 'warn'
                      }
                    >
                      {humanize(item.status)}
                    </Badge>
                    {item.failureReason ? ` (${item.failureReason})` : ''}
                  </td>
                  {decide ? (
                    <td>
                      {item.status === 'in_review' ? (
                        <div className="actions">
                          <button
                            type="button"
                            className="small"
                            onClick={() => setDeciding({ withdrawal: item, decision: 'approve' })}
                          >
                            Approve
                            <span className="sr-only">
                              {' '}
                              {formatMoney(item.amount, item.currency)} for {item.holderName}
                            </span>
                          </button>
                          <button
                            type="button"
                            className="small danger"
                            onClick={() => setDeciding({ withdrawal: item, decision: 'reject' })}
                          >
                            Reject
                            <span className="sr-only">
                              {' '}
                              {formatMoney(item.amount, item.currency)} for {item.holderName}
                            </span>
                          </button>
                        </div>
                      ) : (
                        '—'
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deciding ? (
        <DecisionDialog
          withdrawal={deciding.withdrawal}
          decision={deciding.decision}
          onClose={() => setDeciding(undefined)}
          onDone={(text) => {
            setDeciding(undefined);
            setDone(text);
            setVersion((value) => value + 1);
          }}
        />
      ) : null}
    </>
  );
}

function DecisionDialog(props: {
  withdrawal: Withdrawal;
  decision: 'approve' | 'reject';
  onClose: () => void;
  onDone: (text: string) => void;
}) {
  const { session } = useBackOffice();
  const [reason, setReason] = useState('');
  const action = useAction();
  const { withdrawal, decision } = props;
  const amount = formatMoney(withdrawal.amount, withdrawal.currency);
  const confirm = async () => {
    const result = await action.run(() =>
      session.api<{ status: string }>(
        'POST',
        `/admin/v1/withdrawals/${encodeURIComponent(withdrawal.withdrawalId)}/${decision}`,
        {
          reason: reason.trim(),
        },
      ),
    );
    if (result) props.onDone(`Withdrawal of ${amount} ${decision === 'approve' ? 'approved' : 'rejected'}.`);
  };
  return (
    <Dialog
      open
      title={`${decision === 'approve' ? 'Approve' : 'Reject'} the withdrawal of ${amount}?`}
      onClose={props.onClose}
      actions={
        <>
          <button type="button" className="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="button"
            className={decision === 'reject' ? 'danger' : undefined}
            disabled={action.busy || reason.trim() === ''}
            onClick={() => void confirm()}
          >
            {decision === 'approve' ? 'Approve and pay out' : 'Reject and return the money'}
          </button>
        </>
      }
    >
      <p>
        {withdrawal.holderName} · {withdrawal.method} {withdrawal.account}
      </p>
      <ErrorAlert error={action.error} />
      <div className="field">
        <label htmlFor="decision-reason">Reason (kept in the audit log)</label>
        <textarea
          id="decision-reason"
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          required
        />
      </div>
    </Dialog>
  );
}
