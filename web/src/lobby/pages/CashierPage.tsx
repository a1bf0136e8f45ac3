// Deposits through the payment provider's hosted page, withdrawals, and the status of each.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { formatDateTime, humanize } from '../../shared/format.ts';
import { AmountField } from '../../shared/forms.tsx';
import { currencyScale, formatMoney, validAmount } from '../../shared/money.ts';
import {
  Alert,
  Badge,
  ErrorAlert,
  Field,
  Loading,
  Section,
  SelectField,
  useAction,
  useLoad,
} from '../../shared/ui.tsx';
import { playCheck, useLobby } from '../context.ts';
import type { Payment, Transaction } from '../types.ts';

export const pendingDepositKey = 'croupier.pendingDeposit';

const statusTone: Record<string, 'good' | 'bad' | 'warn' | 'neutral'> = {
  completed: 'good',
  paid: 'good',
  approved: 'good',
  pending: 'warn',
  requested: 'warn',
  in_review: 'warn',
  processing: 'warn',
  declined: 'bad',
  expired: 'bad',
  rejected: 'bad',
  failed: 'bad',
};

export function CashierPage() {
  const { wallet } = useLobby();
  return (
    <>
      <h1>Cashier</h1>
      {wallet ? (
        <Section title="Your money">
          <dl className="facts">
            <dt>Balance</dt>
            <dd className="amount">{formatMoney(wallet.cash, wallet.currency)}</dd>
            <dt>Bonus</dt>
            <dd className="amount">{formatMoney(wallet.bonus, wallet.currency)}</dd>
            <dt>Withdrawals in progress</dt>
            <dd className="amount" data-testid="pending-withdrawal">
              {formatMoney(wallet.pendingWithdrawal, wallet.currency)}
            </dd>
            <dt>Available to withdraw</dt>
            <dd className="amount" data-testid="withdrawable">
              {formatMoney(wallet.withdrawable, wallet.currency)}
            </dd>
          </dl>
        </Section>
      ) : (
        <Loading />
      )}
      <div className="grid-2">
        <DepositForm />
        <WithdrawalForm />
      </div>
      <PaymentList />
    </>
  );
}

function DepositForm() {
  const { me, session } = useLobby();
  const [amount, setAmount] = useState('');
  const action = useAction();
  const [invalid, setInvalid] = useState(false);
  const check = playCheck(me);
  const currency = me?.currency ?? 'EUR';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!validAmount(amount, currencyScale(currency))) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    const started = await action.run(() =>
      session.api<{ depositId: string; status: string; redirectUrl?: string }>(
        'POST',
        '/api/v1/payments/deposits',
        {
          amount: amount.trim(),
          currency,
          method: 'sandbox',
        },
      ),
    );
    if (!started) return;
    sessionStorage.setItem(
      pendingDepositKey,
      JSON.stringify({ depositId: started.depositId, amount: amount.trim(), currency }),
    );
    if (started.redirectUrl) window.location.assign(started.redirectUrl);
  };
  return (
    <Section title="Deposit">
      {!check.ok ? (
        <p className="hint">{check.reason}</p>
      ) : (
        <p className="hint">You confirm the payment on the payment provider’s page and come back here.</p>
      )}
      <form onSubmit={(event) => void submit(event)} noValidate>
        <ErrorAlert error={action.error} />
        {invalid ? <Alert tone="error">Enter an amount such as 20.00.</Alert> : null}
        <AmountField currency={currency} name="deposit-amount" required value={amount} onValue={setAmount} />
        <SelectField
          label="Method"
          name="deposit-method"
          options={[{ value: 'sandbox', label: 'Sandbox payment' }]}
        />
        <button type="submit" disabled={!check.ok || action.busy}>
          {action.busy ? 'Starting…' : 'Deposit'}
        </button>
      </form>
    </Section>
  );
}

function WithdrawalForm() {
  const { me, session, refresh, notify } = useLobby();
  const [amount, setAmount] = useState('');
  const [account, setAccount] = useState('');
  const [invalid, setInvalid] = useState<string | undefined>(undefined);
  const action = useAction();
  const currency = me?.currency ?? 'EUR';
  const holderName = me ? `${me.firstName} ${me.lastName}` : '';
  const verified = me?.kycStatus === 'verified';
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!validAmount(amount, currencyScale(currency))) return setInvalid('Enter an amount such as 20.00.');
    if (account.trim().length === 0) return setInvalid('Enter the account the money goes to.');
    setInvalid(undefined);
    const result = await action.run(() =>
      session.api<{ withdrawalId: string; status: string }>('POST', '/api/v1/payments/withdrawals', {
        amount: amount.trim(),
        currency,
        destination: { method: 'sandbox', holderName, account: account.trim() },
      }),
    );
    if (!result) return;
    rememberPayment(result.withdrawalId);
    setAmount('');
    notify({
      tone: 'success',
      text: `Withdrawal of ${formatMoney(amount.trim(), currency)} requested (${humanize(result.status)}).`,
    });
    refresh(['wallet', 'payments']);
  };
  return (
    <Section title="Withdraw">
      {!verified ? <p className="hint">Withdrawals open once your identity is verified.</p> : null}
      <form onSubmit={(event) => void submit(event)} noValidate>
        <ErrorAlert error={action.error} />
        {invalid ? <Alert tone="error">{invalid}</Alert> : null}
        <AmountField
          currency={currency}
          name="withdrawal-amount"
          required
          value={amount}
          onValue={setAmount}
        />
        <Field
          label="Account holder"
          name="holder"
          readOnly
          value={holderName}
          hint="Payouts go only to an account in your own name."
        />
        <Field
          label="Account number (IBAN)"
          name="account"
          autoComplete="off"
          required
          value={account}
          onChange={(event) => setAccount(event.target.value)}
        />
        <button type="submit" disabled={!verified || action.busy}>
          {action.busy ? 'Requesting…' : 'Request withdrawal'}
        </button>
      </form>
    </Section>
  );
}

const rememberedKey = 'croupier.payments';

function rememberPayment(id: string): void {
  const list = rememberedPayments();
  if (!list.includes(id)) sessionStorage.setItem(rememberedKey, JSON.stringify([id, ...list].slice(0, 50)));
}

function rememberedPayments(): string[] {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(rememberedKey) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The player's payments. The player API has no list of payments, so their ids come from the cash
 * statement (each deposit and withdrawal hold is a transfer named after its payment) and from
 * this tab's own requests; each is then read with GET /api/v1/payments/{id}.
 */
function PaymentList() {
  const { session, versions } = useLobby();
  const payments = useLoad(async (signal) => {
    const statement = await session.api<{ items: Transaction[] }>(
      'GET',
      '/api/v1/wallet/transactions?limit=100',
      undefined,
      signal,
    );
    const ids = new Set<string>(rememberedPayments());
    for (const item of statement.items) {
      const found = /^(?:deposit:(.+)|withdrawal:(.+):hold)$/.exec(item.id);
      const id = found?.[1] ?? found?.[2];
      if (id) ids.add(id);
    }
    const read = await Promise.all(
      [...ids]
        .slice(0, 30)
        .map((id) =>
          session
            .api<Payment>('GET', `/api/v1/payments/${encodeURIComponent(id)}`, undefined, signal)
            .catch(() => undefined),
        ),
    );
    return read
      .filter((item): item is Payment => item !== undefined)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }, `payments-${versions.payments}`);
  return (
    <Section title="Deposits and withdrawals">
      {payments.error ? <ErrorAlert error={payments.error} /> : null}
      {!payments.data ? (
        <Loading />
      ) : payments.data.length === 0 ? (
        <p className="muted">No deposits or withdrawals yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Your deposits and withdrawals, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Type</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {payments.data.map((payment) => (
                <tr key={payment.id} data-testid={`payment-${payment.kind}`}>
                  <td>{formatDateTime(payment.createdAt)}</td>
                  <td>{humanize(payment.kind)}</td>
                  <td className="num amount">{formatMoney(payment.amount, payment.currency)}</td>
                  <td>
                    <Badge tone={statusTone[payment.status] ?? 'neutral'}>{humanize(payment.status)}</Badge>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
