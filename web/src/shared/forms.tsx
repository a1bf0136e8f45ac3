// Forms both apps use: the email-and-password sign-in and the money amount field.
import { useState } from 'react';
import type { FormEvent, InputHTMLAttributes } from 'react';
import { ErrorAlert, Field, useAction } from './ui.tsx';

/** Email and password; `signIn` throws to show its error, resolves to go on. */
export function SignInForm(props: {
  signIn: (email: string, password: string) => Promise<void>;
  onSignedIn: () => void;
  label: string;
  busyLabel: string;
}) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await action.run(async () => {
      await props.signIn(email.trim(), password);
      return true;
    });
    if (done) props.onSignedIn();
  };
  return (
    <form onSubmit={(event) => void submit(event)} noValidate>
      <ErrorAlert error={action.error} />
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="username"
        required
        value={email}
        onChange={(event) => setEmail(event.target.value)}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(event) => setPassword(event.target.value)}
      />
      <button type="submit" disabled={action.busy}>
        {action.busy ? props.busyLabel : props.label}
      </button>
    </form>
  );
}

/** A decimal money amount in `currency`, labelled "Amount (EUR)". */
export function AmountField(
  props: {
    currency: string;
    name: string;
    value: string;
    onValue: (value: string) => void;
    hint?: string | undefined;
  } & Pick<InputHTMLAttributes<HTMLInputElement>, 'required'>,
) {
  const { currency, onValue, ...input } = props;
  return (
    <Field
      label={`Amount (${currency})`}
      inputMode="decimal"
      autoComplete="off"
      {...input}
      onChange={(event) => onValue(event.target.value)}
    />
  );
}
