// The back office: sign-in, then the pages the operator's role may see. Navigation and actions
// come from the role's permissions (GET /admin/v1/me), so a role sees no action it may not take.
import { useEffect, useMemo, useState } from 'react';
import { humanize } from '../shared/format.ts';
import { Link, match, navigate, usePath } from '../shared/router.tsx';
import { SignInForm } from '../shared/forms.tsx';
import { Alert, ErrorAlert, Loading } from '../shared/ui.tsx';
import { BackOfficeContext, base, useBackOffice } from './context.ts';
import type { BackOffice } from './context.ts';
import { OperatorSession } from './session.ts';
import type { Operator } from './session.ts';
import { AuditPage } from './pages/AuditPage.tsx';
import { CataloguePage } from './pages/CataloguePage.tsx';
import { DashboardPage } from './pages/DashboardPage.tsx';
import { LedgerPage } from './pages/LedgerPage.tsx';
import { PlayerPage, PlayersPage } from './pages/PlayersPage.tsx';
import { WithdrawalsPage } from './pages/WithdrawalsPage.tsx';

interface NavItem {
  readonly to: string;
  readonly label: string;
  readonly permission: string;
}

const navItems: readonly NavItem[] = [
  { to: `${base}/`, label: 'Dashboard', permission: 'players.read' },
  { to: `${base}/players`, label: 'Players', permission: 'players.read' },
  { to: `${base}/withdrawals`, label: 'Withdrawals', permission: 'withdrawals.read' },
  { to: `${base}/catalogue`, label: 'Games and providers', permission: 'catalogue.read' },
  { to: `${base}/ledger`, label: 'Ledger check', permission: 'ledger.check' },
  { to: `${base}/audit`, label: 'Audit log', permission: 'audit.read' },
];

export function App() {
  const [session] = useState(() => new OperatorSession());
  const [operator, setOperator] = useState<Operator | undefined>(undefined);
  const [signedIn, setSignedIn] = useState(session.signedIn);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  useEffect(
    () =>
      session.onEnd(() => {
        setSignedIn(false);
        setOperator(undefined);
      }),
    [session],
  );
  useEffect(() => {
    if (!signedIn) return;
    const controller = new AbortController();
    session
      .api<Operator>('GET', '/admin/v1/me', undefined, { signal: controller.signal })
      .then(setOperator, (failure: unknown) => {
        if (!controller.signal.aborted) setError(failure);
      });
    return () => controller.abort();
  }, [session, signedIn]);

  if (!signedIn) {
    return (
      <SignIn
        session={session}
        message={message}
        onSignedIn={() => {
          setMessage(undefined);
          setError(undefined);
          setSignedIn(true);
        }}
      />
    );
  }
  if (!operator) {
    return <main id="main">{error ? <ErrorAlert error={error} /> : <Loading label="Signing in…" />}</main>;
  }
  return (
    <Shell
      session={session}
      operator={operator}
      onSignOut={() => {
        setMessage('You are signed out.');
        session.signOut();
      }}
    />
  );
}

function SignIn(props: { session: OperatorSession; message: string | undefined; onSignedIn: () => void }) {
  return (
    <>
      <header className="topbar backoffice">
        <div className="topbar-inner">
          <span className="brand">
            Croupier <small>back office</small>
          </span>
        </div>
      </header>
      <main id="main">
        <section className="card narrow" aria-labelledby="signin-title">
          <h1 id="signin-title">Sign in</h1>
          {props.message ? <Alert tone="info">{props.message}</Alert> : null}
          <SignInForm
            signIn={(email, password) => props.session.signIn(email, password)}
            onSignedIn={props.onSignedIn}
            label="Sign in"
            busyLabel="Signing in…"
          />
        </section>
      </main>
    </>
  );
}

function Shell(props: { session: OperatorSession; operator: Operator; onSignOut: () => void }) {
  const path = usePath();
  const { operator, session } = props;
  const value: BackOffice = useMemo(
    () => ({ session, operator, can: (action: string) => operator.permissions.includes(action) }),
    [session, operator],
  );
  const items = navItems.filter((item) => value.can(item.permission));
  return (
    <BackOfficeContext.Provider value={value}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar backoffice">
        <div className="topbar-inner">
          <Link className="brand" to={`${base}/`}>
            Croupier <small>back office</small>
          </Link>
          <p className="whoami">
            <span data-testid="operator">{operator.email}</span> ·{' '}
            <span data-testid="role">{humanize(operator.role)}</span>
          </p>
        </div>
        <nav className="nav" aria-label="Back office">
          <ul>
            {items.map((item) => (
              <li key={item.to}>
                <Link to={item.to}>{item.label}</Link>
              </li>
            ))}
            <li>
              <button type="button" className="linklike" onClick={props.onSignOut}>
                Sign out
              </button>
            </li>
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes path={path} />
      </main>
    </BackOfficeContext.Provider>
  );
}

function Forbidden() {
  return <Alert tone="warning">Your role cannot see this page.</Alert>;
}

function Routes(props: { path: string }) {
  const { can } = useBackOffice();
  const path = props.path.replace(/\/+$/, '') || base;
  useEffect(() => {
    if (props.path === base) navigate(`${base}/`, { replace: true });
  }, [props.path]);
  if (path === base) return can('players.read') ? <DashboardPage /> : <Welcome />;
  if (path === `${base}/players`) return can('players.read') ? <PlayersPage /> : <Forbidden />;
  const player = match(`${base}/players/:playerId`, path);
  if (player?.['playerId'])
    return can('players.read') ? <PlayerPage playerId={player['playerId']} /> : <Forbidden />;
  if (path === `${base}/withdrawals`) return can('withdrawals.read') ? <WithdrawalsPage /> : <Forbidden />;
  if (path === `${base}/catalogue`) return can('catalogue.read') ? <CataloguePage /> : <Forbidden />;
  if (path === `${base}/ledger`) return can('ledger.check') ? <LedgerPage /> : <Forbidden />;
  if (path === `${base}/audit`) return can('audit.read') ? <AuditPage /> : <Forbidden />;
  return (
    <section className="card">
      <h1>Page not found</h1>
      <Link to={`${base}/`}>Back to the start</Link>
    </section>
  );
}

function Welcome() {
  return (
    <section className="card">
      <h1>Back office</h1>
      <p>Choose a page above.</p>
    </section>
  );
}
