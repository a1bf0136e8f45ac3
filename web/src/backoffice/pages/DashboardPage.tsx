// The live dashboard: what the platform is doing now, from GET /admin/v1/dashboard every 5 s
// (this node's figures for the last 15 minutes) and the providers' breaker states.
import { useEffect, useState } from 'react';
import { LineChart } from '../../shared/charts.tsx';
import type { Series } from '../../shared/charts.tsx';
import { formatDateTime, humanize } from '../../shared/format.ts';
import { addAmounts, currencyScale, formatMoney } from '../../shared/money.ts';
import { Link } from '../../shared/router.tsx';
import { Badge, ErrorAlert, Loading, Section, SelectField } from '../../shared/ui.tsx';
import { base, useBackOffice } from '../context.ts';

interface MoneySeries {
  currency: string;
  total: string;
  points: string[];
}

export interface Dashboard {
  generatedAt: string;
  since: string;
  bucketSeconds: number;
  points: {
    at: string;
    bets: number;
    wins: number;
    betsPerSecond: number;
    activePlayers: number;
    walletCalls: number;
    walletP99Ms: number | null;
    deposits: number;
    withdrawalsRequested: number;
    withdrawalsPaid: number;
    logins: number;
    registrations: number;
  }[];
  ggrByProvider: (MoneySeries & { providerId: string })[];
  ggrByGame: (MoneySeries & { gameId: string; providerId: string | null })[];
  deposits: MoneySeries[];
  withdrawalsPaid: MoneySeries[];
  activePlayers: number;
  providers: { providerId: string; name: string; enabled: boolean; breaker: string }[];
  outbound: { target: string; breaker: string }[];
  gamingEnabled: boolean;
  withdrawalsInReview: number | null;
}

const REFRESH_MS = 5000;

/** Amounts are exact strings; a chart only needs their size. */
function plotted(amount: string): number {
  return Number(amount);
}

function breakerTone(state: string): 'good' | 'bad' | 'warn' | 'neutral' {
  return state === 'closed' ? 'good' : state === 'open' ? 'bad' : state === 'half_open' ? 'warn' : 'neutral';
}

export function DashboardPage() {
  const { session, can } = useBackOffice();
  const [data, setData] = useState<Dashboard | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [currency, setCurrency] = useState<string | undefined>(undefined);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      if (document.visibilityState === 'visible') {
        try {
          setData(
            await session.api<Dashboard>('GET', '/admin/v1/dashboard', undefined, {
              signal: controller.signal,
            }),
          );
          setError(undefined);
        } catch (failure) {
          if (controller.signal.aborted) return;
          setError(failure);
        }
      }
      if (!controller.signal.aborted) timer = setTimeout(() => void load(), REFRESH_MS);
    };
    void load();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [session]);

  if (!data) {
    return (
      <>
        <h1>Dashboard</h1>
        {error ? <ErrorAlert error={error} /> : <Loading label="Loading the dashboard…" />}
      </>
    );
  }
  const times = data.points.map((point) => point.at);
  const currencies = [
    ...new Set([...data.ggrByProvider, ...data.deposits, ...data.withdrawalsPaid].map((s) => s.currency)),
  ].sort();
  const shown = currency ?? currencies[0] ?? 'EUR';
  const lastMinute = data.points.slice(-Math.round(60 / data.bucketSeconds));
  const betsLastMinute = lastMinute.reduce((sum, point) => sum + point.bets, 0);
  const latency = [...data.points].reverse().find((point) => point.walletP99Ms !== null)?.walletP99Ms ?? null;
  const ggrTotal = data.ggrByProvider
    .filter((series) => series.currency === shown)
    .map((series) => series.total)
    .reduce((sum, total) => addAmounts(sum, total), '0');
  const moneySeries = (list: (MoneySeries & { name: string })[]): Series[] =>
    list
      .filter((item) => item.currency === shown)
      .map((item) => ({
        name: item.name,
        values: item.points.map(plotted),
        legend: `${formatMoney(item.total, shown)} in the window`,
      }));
  // Axis labels and legend values of the charts: rounded for reading, never used as money.
  const money = (value: number) => formatMoney(value.toFixed(currencyScale(shown)), shown);
  return (
    <>
      <h1>Dashboard</h1>
      {error ? <ErrorAlert error={error} /> : null}
      <p className="muted">
        Live figures of this server since {formatDateTime(data.since)} (the last 15 minutes at most), updated
        every {REFRESH_MS / 1000} seconds. Last update {formatDateTime(data.generatedAt)}.
      </p>
      <div className="kpis" aria-label="Key figures" role="group">
        <Kpi label="Active players (5 min)" value={String(data.activePlayers)} testId="kpi-active" />
        <Kpi label="Bets in the last minute" value={String(betsLastMinute)} testId="kpi-bets" />
        <Kpi label={`GGR in the window (${shown})`} value={formatMoney(ggrTotal, shown)} testId="kpi-ggr" />
        <Kpi label="Wallet API p99" value={latency === null ? '—' : `${latency} ms`} testId="kpi-p99" />
        <Kpi
          label="Withdrawals in review"
          value={data.withdrawalsInReview === null ? '—' : String(data.withdrawalsInReview)}
          testId="kpi-review"
          link={can('withdrawals.read') && data.withdrawalsInReview ? `${base}/withdrawals` : undefined}
        />
        <Kpi label="Gaming" value={data.gamingEnabled ? 'On' : 'Off'} testId="kpi-gaming" />
      </div>
      {currencies.length > 1 ? (
        <SelectField
          label="Currency of the money charts"
          options={currencies.map((code) => ({ value: code, label: code }))}
          value={shown}
          onChange={(event) => setCurrency(event.target.value)}
        />
      ) : null}
      <div className="grid-2">
        <Section title="Bets per second">
          <LineChart
            title="Bets per second"
            times={times}
            series={[
              {
                name: 'Bets per second',
                values: data.points.map((point) => point.betsPerSecond),
                legend: `${betsLastMinute} bets in the last minute`,
              },
            ]}
          />
        </Section>
        <Section title="Active players">
          <LineChart
            title="Players with a bet in the last 5 minutes"
            times={times}
            series={[{ name: 'Active players', values: data.points.map((point) => point.activePlayers) }]}
          />
        </Section>
        <Section title="GGR by provider">
          <LineChart
            title={`Gross gaming revenue by provider per ${data.bucketSeconds} s (${shown})`}
            times={times}
            format={money}
            empty="No bets in this window."
            series={moneySeries(data.ggrByProvider.map((item) => ({ ...item, name: item.providerId })))}
          />
        </Section>
        <Section title="GGR by game">
          <LineChart
            title={`Gross gaming revenue by game per ${data.bucketSeconds} s (${shown})`}
            times={times}
            format={money}
            empty="No bets in this window."
            series={moneySeries(data.ggrByGame.map((item) => ({ ...item, name: item.gameId })))}
          />
        </Section>
        <Section title="Deposits and withdrawals">
          <LineChart
            title={`Deposits completed and withdrawals paid per ${data.bucketSeconds} s (${shown})`}
            times={times}
            format={money}
            empty="No deposits or payouts in this window."
            series={moneySeries([
              ...data.deposits.map((item) => ({ ...item, name: 'Deposits' })),
              ...data.withdrawalsPaid.map((item) => ({ ...item, name: 'Withdrawals paid' })),
            ])}
          />
        </Section>
        <Section title="Wallet latency">
          <LineChart
            title="Provider wallet API p99 latency (ms)"
            times={times}
            format={(value) => `${Math.round(value)} ms`}
            series={[{ name: 'p99', values: data.points.map((point) => point.walletP99Ms) }]}
          />
        </Section>
      </div>
      <Section title="Circuit breakers">
        <div className="table-wrap">
          <table data-testid="breakers">
            <thead>
              <tr>
                <th scope="col">Game provider or outside service</th>
                <th scope="col">Enabled</th>
                <th scope="col">Breaker</th>
              </tr>
            </thead>
            <tbody>
              {data.providers.map((provider) => (
                <tr key={provider.providerId}>
                  <td>
                    {provider.name} <span className="muted mono">({provider.providerId})</span>
                  </td>
                  <td>{provider.enabled ? 'Yes' : 'No'}</td>
                  <td>
                    <Badge tone={breakerTone(provider.breaker)}>{humanize(provider.breaker)}</Badge>
                  </td>
                </tr>
              ))}
              {data.outbound
                .filter(
                  (item) => !data.providers.some((provider) => item.target.includes(provider.providerId)),
                )
                .map((item) => (
                  <tr key={item.target}>
                    <td>
                      <span className="mono">{item.target}</span>
                    </td>
                    <td>—</td>
                    <td>
                      <Badge tone={breakerTone(item.breaker)}>{humanize(item.breaker)}</Badge>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </Section>
    </>
  );
}

function Kpi(props: { label: string; value: string; testId: string; link?: string | undefined }) {
  return (
    <div className="kpi">
      <div className="kpi-label">{props.label}</div>
      <div className="kpi-value" data-testid={props.testId}>
        {props.link ? <Link to={props.link}>{props.value}</Link> : props.value}
      </div>
    </div>
  );
}
