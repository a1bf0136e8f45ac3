// The player lobby: logged out, the welcome page (log in, register, the catalogue); logged in, a
// header that always shows the balance, the session's time and net position, and the pages.
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { formatDuration } from '../shared/format.ts';
import { formatMoney, isNegative, isZero } from '../shared/money.ts';
import { Link, match, navigate, usePath } from '../shared/router.tsx';
import { Alert, Dialog } from '../shared/ui.tsx';
import { LobbyContext, playCheck } from './context.ts';
import type { Lobby, Notice, Part } from './context.ts';
import { startLive } from './live.ts';
import type { LiveState } from './live.ts';
import { PlayerSession } from './session.ts';
import type { Me, Payment, SessionInfo, Wallet } from './types.ts';
import { AccountPage } from './pages/AccountPage.tsx';
import { CashierPage, pendingDepositKey } from './pages/CashierPage.tsx';
import { GamesPage } from './pages/GamesPage.tsx';
import { HistoryPage, RoundPage } from './pages/HistoryPage.tsx';
import { PlayPage } from './pages/PlayPage.tsx';
import { SaferGamblingPage } from './pages/SaferGamblingPage.tsx';
import { WelcomePage } from './pages/WelcomePage.tsx';

export function App() {
  const [session] = useState(() => new PlayerSession());
  const [loggedIn, setLoggedIn] = useState(session.loggedIn);
  const [endMessage, setEndMessage] = useState<string | undefined>(undefined);
  useEffect(
    () =>
      session.onEnd((reason) => {
        setLoggedIn(false);
        if (reason === 'expired') {
          setEndMessage((current) => current ?? 'Your session has ended. Please log in again.');
        }
      }),
    [session],
  );
  if (!loggedIn) {
    return (
      <WelcomePage
        session={session}
        message={endMessage}
        onLoggedIn={() => {
          setEndMessage(undefined);
          setLoggedIn(true);
        }}
      />
    );
  }
  return (
    <Shell
      session={session}
      onEnded={(message) => {
        setEndMessage(message);
        session.forget();
      }}
    />
  );
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

const liveLabels: Record<LiveState, string> = {
  connecting: 'Connecting live updates…',
  live: 'Live updates on',
  reconnecting: 'Reconnecting live updates…',
  paused: 'Live updates paused (you were away)',
  off: 'Live updates off',
};

function Shell(props: { session: PlayerSession; onEnded: (message: string) => void }) {
  const { session } = props;
  const path = usePath();
  const [me, setMe] = useState<Me | undefined>(undefined);
  const [wallet, setWallet] = useState<Wallet | undefined>(undefined);
  const [info, setInfo] = useState<SessionInfo | undefined>(undefined);
  const [clockOffsetMs, setClockOffsetMs] = useState(0);
  const [live, setLive] = useState<LiveState>('connecting');
  const [versions, setVersions] = useState({ payments: 0, rounds: 0, limits: 0 });
  const [notice, setNotice] = useState<Notice | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | undefined>(undefined);
  const pending = useRef(new Set<Part>());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const load = useCallback(
    async (parts: ReadonlySet<Part>) => {
      const jobs: Promise<unknown>[] = [];
      if (parts.has('me')) jobs.push(session.api<Me>('GET', '/api/v1/me').then(setMe));
      if (parts.has('wallet')) jobs.push(session.api<Wallet>('GET', '/api/v1/wallet').then(setWallet));
      if (parts.has('info')) {
        const asked = Date.now();
        jobs.push(
          session.api<SessionInfo>('GET', '/api/v1/session').then((value) => {
            const serverNow = Date.parse(value.startedAt) + value.elapsedSeconds * 1000;
            setClockOffsetMs(serverNow - (asked + Date.now()) / 2);
            setInfo(value);
          }),
        );
      }
      const bumped = (['payments', 'rounds', 'limits'] as const).filter((part) => parts.has(part));
      if (bumped.length > 0) {
        setVersions((current) => {
          const next = { ...current };
          for (const part of bumped) next[part] += 1;
          return next;
        });
      }
      const results = await Promise.allSettled(jobs);
      const failed = results.find((result) => result.status === 'rejected');
      setLoadError(
        failed ? 'Some figures could not be updated. They will refresh on the next change.' : undefined,
      );
    },
    [session],
  );

  const refresh = useCallback(
    (parts: readonly Part[] = ['me', 'wallet', 'info', 'payments', 'rounds', 'limits']) => {
      for (const part of parts) pending.current.add(part);
      clearTimeout(timer.current);
      // A bet and its win arrive together: one re-read for both.
      timer.current = setTimeout(() => {
        const batch = new Set(pending.current);
        pending.current.clear();
        void load(batch);
      }, 120);
    },
    [load],
  );

  useEffect(() => {
    void load(new Set<Part>(['me', 'wallet', 'info']));
    return () => clearTimeout(timer.current);
  }, [load]);

  useEffect(
    () =>
      startLive(session, {
        onState: setLive,
        onChange: (subject) => {
          if (subject.startsWith('games.')) refresh(['wallet', 'info', 'rounds']);
          else if (subject.startsWith('payments.')) refresh(['wallet', 'payments']);
          else if (subject.startsWith('pam.limit')) refresh(['limits']);
          else if (subject.startsWith('pam.')) refresh(['me', 'wallet']);
          else refresh();
        },
      }),
    [session, refresh],
  );

  // Coming back to the tab is the player's own action: catch up on anything missed.
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') refresh(['me', 'wallet', 'info']);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [refresh]);

  // A notice belongs to the page it was given on.
  const firstPath = useRef(path);
  useEffect(() => {
    if (path !== firstPath.current) {
      firstPath.current = path;
      setNotice(undefined);
    }
  }, [path]);

  useDepositReturn(session, setNotice, refresh);

  const lobby: Lobby = useMemo(
    () => ({
      session,
      me,
      wallet,
      info,
      live,
      versions,
      clockOffsetMs,
      refresh,
      notify: setNotice,
      ended: props.onEnded,
    }),
    [session, me, wallet, info, live, versions, clockOffsetMs, refresh, props.onEnded],
  );

  const check = playCheck(me);
  return (
    <LobbyContext.Provider value={lobby}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link className="brand" to="/">
            Croupier
          </Link>
          <Figures wallet={wallet} info={info} clockOffsetMs={clockOffsetMs} live={live} />
        </div>
        <nav className="nav" aria-label="Lobby">
          <ul>
            <li>
              <Link to="/">Games</Link>
            </li>
            <li>
              <Link to="/cashier">Cashier</Link>
            </li>
            <li>
              <Link to="/history">History</Link>
            </li>
            <li>
              <Link to="/safer-gambling">Safer gambling</Link>
            </li>
            <li>
              <Link to="/account">Account</Link>
            </li>
            <li>
              <button type="button" className="linklike" onClick={() => void session.logout()}>
                Log out
              </button>
            </li>
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {me && !check.ok ? (
          <Alert tone={me.status === 'active' && me.kycStatus !== 'rejected' ? 'info' : 'warning'}>
            <span data-testid="play-blocked">{check.reason}</span>
          </Alert>
        ) : null}
        {notice ? (
          <Alert tone={notice.tone}>
            {notice.text}{' '}
            <button type="button" className="linklike" onClick={() => setNotice(undefined)}>
              Dismiss
            </button>
          </Alert>
        ) : null}
        {loadError ? <Alert tone="warning">{loadError}</Alert> : null}
        <Routes path={path} />
      </main>
      <RealityCheck info={info} clockOffsetMs={clockOffsetMs} onLogout={() => void session.logout()} />
    </LobbyContext.Provider>
  );
}

function Routes(props: { path: string }) {
  const { path } = props;
  useEffect(() => {
    if (path === '/login' || path === '/register') navigate('/', { replace: true });
  }, [path]);
  if (path === '/' || path === '/login' || path === '/register') return <GamesPage />;
  const play = match('/play/:gameId', path);
  if (play?.['gameId']) return <PlayPage gameId={play['gameId']} />;
  if (path === '/cashier') return <CashierPage />;
  if (path === '/history') return <HistoryPage />;
  const round = match('/history/rounds/:roundId', path);
  if (round?.['roundId']) return <RoundPage roundId={round['roundId']} />;
  if (path === '/safer-gambling') return <SaferGamblingPage />;
  if (path === '/account') return <AccountPage />;
  return (
    <section className="card">
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the games</Link>
      </p>
    </section>
  );
}

function Figures(props: {
  wallet: Wallet | undefined;
  info: SessionInfo | undefined;
  clockOffsetMs: number;
  live: LiveState;
}) {
  const now = useNow(1000);
  const { wallet, info } = props;
  const elapsed = info ? (now + props.clockOffsetMs - Date.parse(info.startedAt)) / 1000 : 0;
  const net = info?.netPosition;
  return (
    <ul className="figures" aria-label="Your balance and this session">
      <li>
        <span className="figure-label">Balance</span>
        <strong data-testid="balance">{wallet ? formatMoney(wallet.cash, wallet.currency) : '…'}</strong>
      </li>
      {wallet && !isZero(wallet.bonus) ? (
        <li>
          <span className="figure-label">Bonus</span>
          <strong data-testid="bonus">{formatMoney(wallet.bonus, wallet.currency)}</strong>
        </li>
      ) : null}
      <li>
        <span className="figure-label">Session time</span>
        <strong data-testid="session-time">{info ? formatDuration(elapsed) : '…'}</strong>
      </li>
      <li>
        <span className="figure-label">Net position</span>
        <strong data-testid="net-position">
          {info && net !== undefined
            ? `${isNegative(net) || isZero(net) ? '' : '+'}${formatMoney(net, info.currency)}`
            : '…'}
        </strong>
      </li>
      <li>
        <span className="figure-label">Updates</span>
        <span data-testid="live-state">
          <span className={`live-dot${props.live === 'live' ? ' on' : ''}`} aria-hidden="true" />
          {props.live === 'live' ? 'Live' : props.live === 'paused' ? 'Paused' : '…'}
          <span className="sr-only">{liveLabels[props.live]}</span>
        </span>
      </li>
    </ul>
  );
}

/** The reminder at every reality-check interval of the session (pam computes the times). */
function RealityCheck(props: { info: SessionInfo | undefined; clockOffsetMs: number; onLogout: () => void }) {
  const { info, clockOffsetMs } = props;
  const lobby = useContext(LobbyContext);
  const [due, setDue] = useState<string | undefined>(undefined);
  const [acknowledged, setAcknowledged] = useState<string | undefined>(undefined);
  useEffect(() => {
    const next = info?.nextRealityCheckAt;
    if (!next || next === acknowledged) return;
    const wait = Date.parse(next) - clockOffsetMs - Date.now();
    const timeout = setTimeout(() => setDue(next), Math.max(0, wait));
    return () => clearTimeout(timeout);
  }, [info?.nextRealityCheckAt, clockOffsetMs, acknowledged]);
  if (!info || !due) return null;
  const close = () => {
    setAcknowledged(due);
    setDue(undefined);
    lobby?.refresh(['info']);
  };
  const minutes = Math.round((Date.parse(due) - Date.parse(info.startedAt)) / 60_000);
  return (
    <Dialog
      open
      role="alertdialog"
      title="Reality check"
      onClose={close}
      actions={
        <>
          <button type="button" className="secondary" onClick={props.onLogout}>
            Log out
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              close();
              navigate('/history');
            }}
          >
            View history
          </button>
          <button type="button" onClick={close}>
            Keep playing
          </button>
        </>
      }
    >
      <p>
        You have been logged in for <strong>{minutes} minutes</strong>.
      </p>
      <p>
        Since you logged in you have staked <strong>{formatMoney(info.staked, info.currency)}</strong> and won{' '}
        <strong>{formatMoney(info.won, info.currency)}</strong>: your net position is{' '}
        <strong data-testid="reality-net">{formatMoney(info.netPosition, info.currency)}</strong>.
      </p>
      <p className="muted">You can change how often you see this under Safer gambling.</p>
    </Dialog>
  );
}

/** Back from the payment provider's page: follow the deposit until the provider's webhook lands. */
function useDepositReturn(
  session: PlayerSession,
  notify: (notice: Notice | undefined) => void,
  refresh: (parts?: readonly Part[]) => void,
) {
  useEffect(() => {
    const raw = sessionStorage.getItem(pendingDepositKey);
    if (!raw) return;
    let parsed: { depositId?: string; amount?: string; currency?: string };
    try {
      parsed = JSON.parse(raw) as typeof parsed;
    } catch {
      sessionStorage.removeItem(pendingDepositKey);
      return;
    }
    const { depositId, amount = '', currency = '' } = parsed;
    if (!depositId) return;
    const controller = new AbortController();
    const label = `Your deposit of ${formatMoney(amount, currency)}`;
    notify({ tone: 'info', text: `${label} is being confirmed by the payment provider…` });
    void (async () => {
      const deadline = Date.now() + 120_000;
      while (!controller.signal.aborted && Date.now() < deadline) {
        try {
          const payment = await session.api<Payment>(
            'GET',
            `/api/v1/payments/${encodeURIComponent(depositId)}`,
            undefined,
            controller.signal,
          );
          if (payment.status === 'completed') {
            sessionStorage.removeItem(pendingDepositKey);
            notify({ tone: 'success', text: `${label} is complete: the money is in your balance.` });
            refresh(['wallet', 'payments']);
            return;
          }
          if (payment.status === 'declined' || payment.status === 'expired') {
            sessionStorage.removeItem(pendingDepositKey);
            notify({ tone: 'warning', text: `${label} was ${payment.status}. No money was taken.` });
            refresh(['payments']);
            return;
          }
        } catch {
          if (controller.signal.aborted) return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      if (!controller.signal.aborted) {
        sessionStorage.removeItem(pendingDepositKey);
        notify({ tone: 'info', text: `${label} is still open. Its status is under Cashier.` });
      }
    })();
    return () => controller.abort();
  }, [session, notify, refresh]);
}
