// Responsible gambling: deposit, loss and wager limits (lower at once, higher after 24 hours),
// reality-check reminders, a time-out and self-exclusion.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { formatDateTime, formatTime } from '../../shared/format.ts';
import { AmountField } from '../../shared/forms.tsx';
import { currencyScale, formatMoney, validAmount } from '../../shared/money.ts';
import {
  Alert,
  Dialog,
  ErrorAlert,
  Loading,
  Section,
  SelectField,
  useAction,
  useLoad,
} from '../../shared/ui.tsx';
import { useLobby } from '../context.ts';
import type { Limit } from '../types.ts';

const kinds = [
  { value: 'deposit', label: 'Deposit limit (money paid in)' },
  { value: 'loss', label: 'Loss limit (stakes minus wins)' },
  { value: 'wager', label: 'Wager limit (stakes)' },
] as const;
const periods = [
  { value: 'day', label: 'Per day (24 hours)' },
  { value: 'week', label: 'Per week (7 days)' },
  { value: 'month', label: 'Per month (30 days)' },
] as const;

export function SaferGamblingPage() {
  return (
    <>
      <h1>Safer gambling</h1>
      <p>
        Set limits, reminders and breaks. Help is also available from independent organisations such as
        GamCare.
      </p>
      <Limits />
      <div className="grid-2">
        <RealityCheckSetting />
        <TimeOut />
      </div>
      <SelfExclusion />
    </>
  );
}

function Limits() {
  const { session, me, versions, refresh } = useLobby();
  const currency = me?.currency ?? 'EUR';
  const limits = useLoad(
    (signal) => session.api<{ items: Limit[] }>('GET', '/api/v1/limits', undefined, signal),
    `limits-${versions.limits}`,
  );
  const [kind, setKind] = useState<string>('deposit');
  const [period, setPeriod] = useState<string>('day');
  const [amount, setAmount] = useState('');
  const [invalid, setInvalid] = useState(false);
  const [saved, setSaved] = useState<string | undefined>(undefined);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const text = amount.trim();
    if (text !== '' && !validAmount(text, currencyScale(currency))) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setSaved(undefined);
    const limit = await action.run(() =>
      session.api<Limit>('PUT', `/api/v1/limits/${kind}/${period}`, { amount: text === '' ? null : text }),
    );
    if (!limit) return;
    setSaved(
      limit.effectiveAt
        ? `Saved. The change applies from ${formatDateTime(limit.effectiveAt)} (a raise or removal waits 24 hours).`
        : 'Saved. The limit applies now.',
    );
    setAmount('');
    refresh(['limits']);
  };
  const label = (value: string, list: readonly { value: string; label: string }[]) =>
    list.find((item) => item.value === value)?.label.split(' (')[0] ?? value;
  return (
    <Section title="Limits">
      {limits.error ? <ErrorAlert error={limits.error} /> : null}
      {!limits.data ? (
        <Loading />
      ) : (
        <div className="table-wrap">
          <table data-testid="limits">
            <caption className="sr-only">Your limits</caption>
            <thead>
              <tr>
                <th scope="col">Limit</th>
                <th scope="col">Period</th>
                <th scope="col" className="num">
                  Now
                </th>
                <th scope="col">Change waiting</th>
              </tr>
            </thead>
            <tbody>
              {limits.data.items.length === 0 ? (
                <tr>
                  <td colSpan={4} className="muted">
                    No limits set.
                  </td>
                </tr>
              ) : (
                limits.data.items.map((limit) => (
                  <tr key={`${limit.kind}-${limit.period}`}>
                    <td>{label(limit.kind, kinds)}</td>
                    <td>{label(limit.period, periods)}</td>
                    <td className="num amount">
                      {limit.amount === null ? 'None' : formatMoney(limit.amount, currency)}
                    </td>
                    <td>
                      {limit.effectiveAt
                        ? `${limit.pendingAmount === null || limit.pendingAmount === undefined ? 'Removal' : formatMoney(limit.pendingAmount, currency)} from ${formatDateTime(limit.effectiveAt)}`
                        : '—'}
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      )}
      <form onSubmit={(event) => void submit(event)} noValidate>
        <h3>Set or change a limit</h3>
        <ErrorAlert error={action.error} />
        {invalid ? (
          <Alert tone="error">Enter an amount such as 100.00, or leave it empty to remove the limit.</Alert>
        ) : null}
        {saved ? <Alert tone="success">{saved}</Alert> : null}
        <div className="row">
          <SelectField
            label="Limit"
            name="limit-kind"
            options={kinds}
            value={kind}
            onChange={(event) => setKind(event.target.value)}
          />
          <SelectField
            label="Period"
            name="limit-period"
            options={periods}
            value={period}
            onChange={(event) => setPeriod(event.target.value)}
          />
          <AmountField
            currency={currency}
            name="limit-amount"
            hint="Empty removes the limit."
            value={amount}
            onValue={setAmount}
          />
        </div>
        <p className="hint">
          A lower limit applies at once. A higher one, or removing a limit, applies after 24 hours.
        </p>
        <button type="submit" disabled={action.busy}>
          Save limit
        </button>
      </form>
    </Section>
  );
}

function RealityCheckSetting() {
  const { session, me, info, clockOffsetMs, refresh } = useLobby();
  const [value, setValue] = useState<string | undefined>(undefined);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const current = value ?? (me?.realityCheckMinutes ? String(me.realityCheckMinutes) : 'off');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const done = await action.run(() =>
      session.api('PUT', '/api/v1/reality-check', {
        intervalMinutes: current === 'off' ? null : Number(current),
      }),
    );
    if (done !== undefined) {
      setSaved(true);
      refresh(['me', 'info']);
    }
  };
  const options = [
    { value: 'off', label: 'Off' },
    ...[5, 10, 15, 30, 60, 120].map((minutes) => ({
      value: String(minutes),
      label: `Every ${minutes} minutes`,
    })),
  ];
  return (
    <Section title="Reality check">
      <p>A reminder of how long you have been playing and your net position since you logged in.</p>
      {info?.nextRealityCheckAt ? (
        <p data-testid="next-reality-check">
          Next reminder at{' '}
          {formatTime(new Date(Date.parse(info.nextRealityCheckAt) - clockOffsetMs).toISOString())}.
        </p>
      ) : null}
      <form onSubmit={(event) => void submit(event)}>
        <ErrorAlert error={action.error} />
        {saved ? <Alert tone="success">Saved.</Alert> : null}
        <SelectField
          label="Remind me"
          name="reality-check"
          options={options}
          value={current}
          onChange={(event) => setValue(event.target.value)}
        />
        <button type="submit" disabled={action.busy}>
          Save reminder
        </button>
      </form>
    </Section>
  );
}

function TimeOut() {
  const { session, refresh, me } = useLobby();
  const [duration, setDuration] = useState('24h');
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const options = [
    { value: '24h', label: '24 hours' },
    { value: '7d', label: '7 days' },
    { value: '30d', label: '30 days' },
    { value: '42d', label: '6 weeks' },
  ];
  const label = options.find((option) => option.value === duration)?.label ?? duration;
  const confirm = async () => {
    const done = await action.run(() => session.api('POST', '/api/v1/time-out', { duration }));
    setConfirming(false);
    if (done !== undefined) refresh(['me']);
  };
  return (
    <Section title="Take a time-out">
      <p>
        A break from deposits and play. It cannot be cancelled or shortened; you can still log in and
        withdraw.
      </p>
      <ErrorAlert error={action.error} />
      {me?.status === 'timed_out' ? (
        <Alert tone="info">You are on a time-out until {formatDateTime(me.restrictedUntil)}.</Alert>
      ) : null}
      <SelectField
        label="Length"
        name="time-out"
        options={options}
        value={duration}
        onChange={(event) => setDuration(event.target.value)}
      />
      <button
        type="button"
        onClick={() => setConfirming(true)}
        disabled={action.busy || me?.status === 'self_excluded'}
      >
        Take a time-out
      </button>
      <Dialog
        open={confirming}
        title="Take a time-out?"
        onClose={() => setConfirming(false)}
        actions={
          <>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
            <button type="button" onClick={() => void confirm()} disabled={action.busy}>
              Start {label} time-out
            </button>
          </>
        }
      >
        <p>For {label} you will not be able to deposit or play. This cannot be undone.</p>
      </Dialog>
    </Section>
  );
}

function SelfExclusion() {
  const { session, ended } = useLobby();
  const [duration, setDuration] = useState('6m');
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const options = [
    { value: '6m', label: '6 months' },
    { value: '1y', label: '1 year' },
    { value: '5y', label: '5 years' },
  ];
  const label = options.find((option) => option.value === duration)?.label ?? duration;
  const confirm = async () => {
    const result = await action.run(() =>
      session.api<{ status: string; restrictedUntil: string | null }>('POST', '/api/v1/self-exclusion', {
        duration,
      }),
    );
    setConfirming(false);
    if (result) {
      ended(
        `You are self-excluded until ${formatDateTime(result.restrictedUntil)}. Your sessions have ended. ` +
          'You can still log in to see your history and withdraw your balance.',
      );
    }
  };
  return (
    <Section title="Self-exclusion">
      <p>
        Close your account to gambling for at least six months. It starts at once, ends all your sessions and
        cannot be reversed early. You can still log in to withdraw your money.
      </p>
      <ErrorAlert error={action.error} />
      <SelectField
        label="Exclude me for"
        name="self-exclusion"
        options={options}
        value={duration}
        onChange={(event) => setDuration(event.target.value)}
      />
      <button type="button" className="danger" onClick={() => setConfirming(true)} disabled={action.busy}>
        Self-exclude
      </button>
      <Dialog
        open={confirming}
        role="alertdialog"
        title="Self-exclude now?"
        onClose={() => setConfirming(false)}
        actions={
          <>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
            <button type="button" className="danger" onClick={() => void confirm()} disabled={action.busy}>
              Self-exclude for {label}
            </button>
          </>
        }
      >
        <p>
          For {label} you will not be able to deposit or play, and we will not send you marketing. This cannot
          be undone or shortened.
        </p>
      </Dialog>
    </Section>
  );
}
