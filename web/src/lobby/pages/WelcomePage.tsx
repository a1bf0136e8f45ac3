// Logged out: log in, open an account, and look at the games (the catalogue is public).
import { useState } from 'react';
import type { FormEvent } from 'react';
import { request } from '../../shared/api.ts';
import { SignInForm } from '../../shared/forms.tsx';
import { Alert, ErrorAlert, Field, SelectField, useAction } from '../../shared/ui.tsx';
import { deviceId } from '../session.ts';
import type { PlayerSession } from '../session.ts';
import { GameGrid } from './GamesPage.tsx';

/** The platform's default countries (CROUPIER_COUNTRIES); the server has the last word. */
const countries = [
  ['GB', 'United Kingdom'],
  ['IE', 'Ireland'],
  ['MT', 'Malta'],
  ['DE', 'Germany'],
  ['AT', 'Austria'],
  ['NL', 'Netherlands'],
  ['SE', 'Sweden'],
  ['FI', 'Finland'],
  ['DK', 'Denmark'],
  ['NO', 'Norway'],
  ['ES', 'Spain'],
  ['IT', 'Italy'],
  ['FR', 'France'],
  ['PT', 'Portugal'],
  ['GR', 'Greece'],
  ['EE', 'Estonia'],
  ['BE', 'Belgium'],
  ['CA', 'Canada'],
  ['NZ', 'New Zealand'],
  ['CW', 'Curaçao'],
].map(([value = '', label = '']) => ({ value, label }));

const currencies = ['EUR', 'GBP', 'USD', 'JPY', 'BTC'].map((code) => ({ value: code, label: code }));

export function WelcomePage(props: {
  session: PlayerSession;
  message: string | undefined;
  onLoggedIn: () => void;
}) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <span className="brand">Croupier</span>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>Welcome to Croupier</h1>
        {props.message ? <Alert tone="info">{props.message}</Alert> : null}
        <div className="welcome">
          <LoginForm session={props.session} onLoggedIn={props.onLoggedIn} />
          <RegisterForm session={props.session} onLoggedIn={props.onLoggedIn} />
        </div>
        <section className="card" aria-labelledby="catalogue-title">
          <h2 id="catalogue-title">Our games</h2>
          <p className="muted">
            Log in to play. Play is for verified players of 18 or over (21 in some countries).
          </p>
          <GameGrid canPlay={{ ok: false, reason: 'Log in to play.' }} />
        </section>
      </main>
    </>
  );
}

function LoginForm(props: { session: PlayerSession; onLoggedIn: () => void }) {
  return (
    <section className="card" aria-labelledby="login-title">
      <h2 id="login-title">Log in</h2>
      <SignInForm
        signIn={(email, password) => props.session.login(email, password)}
        onSignedIn={props.onLoggedIn}
        label="Log in"
        busyLabel="Logging in…"
      />
    </section>
  );
}

function RegisterForm(props: { session: PlayerSession; onLoggedIn: () => void }) {
  const [form, setForm] = useState({
    email: '',
    password: '',
    firstName: '',
    lastName: '',
    dateOfBirth: '',
    country: 'GB',
    currency: 'EUR',
  });
  const action = useAction();
  const set = (key: keyof typeof form) => (event: { target: { value: string } }) =>
    setForm((current) => ({ ...current, [key]: event.target.value }));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await action.run(async () => {
      await request('POST', '/api/v1/players', {
        body: { ...form, email: form.email.trim(), deviceId: deviceId() },
      });
      // A taken address answers like a new one (nothing is revealed), so the log-in tells.
      await props.session.login(form.email.trim(), form.password);
      return true;
    });
    if (done) props.onLoggedIn();
  };
  return (
    <section className="card" aria-labelledby="register-title">
      <h2 id="register-title">Open an account</h2>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <ErrorAlert error={action.error} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          value={form.email}
          onChange={set('email')}
        />
        <Field
          label="Password"
          name="new-password"
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          hint="At least 10 characters."
          value={form.password}
          onChange={set('password')}
        />
        <div className="row">
          <Field
            label="First name"
            name="firstName"
            autoComplete="given-name"
            required
            value={form.firstName}
            onChange={set('firstName')}
          />
          <Field
            label="Last name"
            name="lastName"
            autoComplete="family-name"
            required
            value={form.lastName}
            onChange={set('lastName')}
          />
        </div>
        <Field
          label="Date of birth"
          name="dateOfBirth"
          type="date"
          autoComplete="bday"
          required
          hint="You must be 18 or over (21 in some countries)."
          value={form.dateOfBirth}
          onChange={set('dateOfBirth')}
        />
        <div className="row">
          <SelectField
            label="Country"
            name="country"
            options={countries}
            value={form.country}
            onChange={set('country')}
          />
          <SelectField
            label="Currency"
            name="currency"
            options={currencies}
            value={form.currency}
            onChange={set('currency')}
          />
        </div>
        <p className="hint">We verify your identity right after you register; it usually takes a moment.</p>
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Opening your account…' : 'Open account'}
        </button>
      </form>
    </section>
  );
}
