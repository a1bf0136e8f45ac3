// Proves the lobby and the back office in a real browser (Debian's Chromium, headless): the whole
// journey register → KYC verified by an operator → deposit on the provider's page → 3 slot spins
// and 3 dice rolls in the studio's page inside the lobby, with the balance following live → a
// withdrawal that finance approves and the provider pays; self-exclusion closing play in the UI;
// each role seeing only its own actions; the reality check. Every page is screenshotted, audited
// for accessibility and must log no console error.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { browserAdmin, startBrowserPlatform } from './support/platform.ts';
import type { BrowserPlatform } from './support/platform.ts';
import {
  amountOf,
  auditAccessibility,
  chromiumMissing,
  desktop,
  focusVisible,
  launchChromium,
  openPage,
  phone,
  screenshot,
  tabTo,
} from './support/browser.ts';
import type { AccessibilityIssue, WatchedPage } from './support/browser.ts';

const password = 'correct horse battery';
const uiTimeoutMs = 15_000;

async function until<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = uiTimeoutMs,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function api<T>(
  platform: BrowserPlatform,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const response = await fetch(`${platform.url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function adminToken(platform: BrowserPlatform): Promise<string> {
  return (await api<{ accessToken: string }>(platform, 'POST', '/admin/v1/auth/login', browserAdmin))
    .accessToken;
}

async function createOperator(
  platform: BrowserPlatform,
  role: string,
): Promise<{ email: string; password: string }> {
  const operator = {
    email: `${role}-${randomBytes(4).toString('hex')}@browser.test`,
    password: 'operator-password-1',
  };
  await api(platform, 'POST', '/admin/v1/users', { ...operator, role }, await adminToken(platform));
  return operator;
}

/** Registers through the API (for tests whose subject is not registration); KYC then verifies itself. */
async function registerByApi(
  platform: BrowserPlatform,
  lastName = `Tester${randomBytes(3).toString('hex')}`,
): Promise<string> {
  const email = `player-${randomBytes(5).toString('hex')}@example.test`;
  await api(platform, 'POST', '/api/v1/players', {
    email,
    password,
    firstName: 'Grace',
    lastName,
    dateOfBirth: '1988-02-03',
    country: 'GB',
    currency: 'EUR',
  });
  return email;
}

/** Signs in to the back office with the keyboard only, checking that focus stays visible. */
async function signInBackOffice(
  watched: WatchedPage,
  url: string,
  operator: { email: string; password: string },
) {
  const { page } = watched;
  await page.goto(`${url}/backoffice`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await tabTo(page, 'input[name="email"]');
  assert.ok(await focusVisible(page), 'the focused email field shows a focus ring');
  await page.keyboard.type(operator.email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(operator.password);
  await page.keyboard.press('Tab');
  assert.ok(
    await page.evaluate(() => document.activeElement?.textContent === 'Sign in'),
    'Tab reaches the button',
  );
  assert.ok(await focusVisible(page), 'the focused button shows a focus ring');
  await page.keyboard.press('Enter');
  await page.getByTestId('role').waitFor();
}

/** Logs in to the lobby with the keyboard only. */
async function logInLobby(watched: WatchedPage, url: string, email: string) {
  const { page } = watched;
  if (!page.url().startsWith(url)) await page.goto(`${url}/`);
  const form = page.getByRole('region', { name: 'Log in' });
  await form.waitFor();
  await tabTo(page, 'input[name="email"]');
  assert.ok(await focusVisible(page), 'focus ring on the email field');
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.getByTestId('balance').waitFor();
}

async function balanceOf(page: Page): Promise<string> {
  return amountOf(await page.getByTestId('balance').textContent());
}

/** Plays `rounds` rounds with the studio page's one play button; the lobby's balance must follow each. */
async function playRounds(
  page: Page,
  frame: FrameLocator,
  button: string,
  rounds: number,
  seen: Set<string>,
) {
  const play = frame.getByRole('button', { name: button, exact: true });
  await until(
    async () => /\d/.test((await frame.locator('#balance').textContent()) ?? ''),
    'the game session',
  );
  for (let round = 0; round < rounds; round++) {
    await play.click();
    await frame.locator('#play:enabled').waitFor();
    const studio = amountOf(await frame.locator('#balance').textContent());
    // The lobby re-reads GET /api/v1/wallet on the bet's and the win's signals: no reload, no poll.
    await until(
      async () => (await balanceOf(page)) === studio,
      `the lobby balance to show ${studio} after round ${round + 1}`,
    );
    seen.add(studio);
  }
}

describe('web apps in Chromium', { skip: chromiumMissing }, () => {
  let platform: BrowserPlatform;
  let browser: Browser;
  const pages: WatchedPage[] = [];
  const accessibility: { page: string; issues: AccessibilityIssue[] }[] = [];

  const open = async (options: typeof phone) => {
    const watched = await openPage(browser, options);
    pages.push(watched);
    return watched;
  };
  /** Screenshot and accessibility audit of a main page. */
  const capture = async (page: Page, name: string) => {
    await screenshot(page, name);
    accessibility.push({ page: name, issues: await auditAccessibility(page) });
  };

  before(async () => {
    platform = await startBrowserPlatform();
    browser = await launchChromium();
  });

  after(async () => {
    for (const watched of pages) await watched.context.close().catch(() => undefined);
    await browser?.close();
    await platform?.close();
  });

  it('plays the journey: register, verify, deposit, 3 spins and 3 rolls with a live balance, withdraw, approve, paid', async () => {
    const player = await open(phone);
    const admin = await open(desktop);
    const { page } = player;
    const email = `ada-${randomBytes(5).toString('hex')}@example.test`;
    // A last name with "review" keeps the sandbox KYC check pending: an operator decides.
    const lastName = `Review${randomBytes(2).toString('hex')}`;

    await page.goto(`${platform.url}/`);
    await page.getByRole('heading', { name: 'Welcome to Croupier' }).waitFor();
    await page.getByRole('button', { name: 'Play Studio Fruits' }).waitFor();
    await capture(page, 'lobby-welcome');
    const register = page.getByRole('region', { name: 'Open an account' });
    await register.getByLabel('Email').fill(email);
    await register.getByLabel('Password').fill(password);
    await register.getByLabel('First name').fill('Ada');
    await register.getByLabel('Last name').fill(lastName);
    await register.getByLabel('Date of birth').fill('1990-04-01');
    await register.getByLabel('Country').selectOption('GB');
    await register.getByRole('button', { name: 'Open account' }).click();
    const blocked = page.getByTestId('play-blocked');
    await until(
      async () => /verifying your identity/.test((await blocked.textContent()) ?? ''),
      'the KYC notice',
    );
    assert.equal(await page.getByRole('button', { name: 'Play Studio Fruits' }).isDisabled(), true);
    await capture(page, 'lobby-games-unverified');

    // The operator verifies the player by hand; the lobby learns it live (pam's event).
    await signInBackOffice(admin, platform.url, browserAdmin);
    await admin.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await admin.page.getByRole('link', { name: 'Players' }).click();
    await admin.page.getByLabel('Search by email, name or player id').fill(email);
    await admin.page.getByRole('button', { name: 'Search' }).click();
    await admin.page.getByRole('link', { name: `Ada ${lastName}` }).click();
    await admin.page.getByLabel('New KYC status').selectOption('verified');
    await admin.page.getByLabel('Reason (kept in the audit log)').first().fill('Passport checked by hand');
    await admin.page.getByRole('button', { name: 'Set KYC status' }).click();
    await admin.page.getByText('KYC set to Verified.').waitFor();
    await blocked.waitFor({ state: 'detached', timeout: uiTimeoutMs });

    // Deposit on the sandbox provider's hosted page, and back.
    await page.getByRole('link', { name: 'Cashier' }).click();
    const deposit = page.getByRole('region', { name: 'Deposit' });
    await deposit.getByLabel('Amount (EUR)').fill('50.00');
    await capture(page, 'lobby-cashier');
    await deposit.getByRole('button', { name: 'Deposit' }).click();
    await page.waitForURL(/\/pay\//);
    await page.getByRole('button', { name: 'Approve payment' }).click();
    await page.getByRole('link', { name: 'Return to Croupier' }).click();
    await page.waitForURL(`${platform.url}/`);
    await page.getByText('is complete: the money is in your balance').waitFor({ timeout: uiTimeoutMs });
    await until(async () => (await balanceOf(page)) === '50.00', 'the deposited balance');
    await page.evaluate(() => {
      (window as unknown as { journeyMarker: number }).journeyMarker = 1;
    });

    // Three spins and three rolls in the studio's own page, framed in the lobby.
    const seen = new Set<string>(['50.00']);
    await page.getByRole('button', { name: 'Play Studio Fruits' }).click();
    const fruits = page.frameLocator('iframe[title="Studio Fruits game"]');
    await playRounds(page, fruits, 'Spin', 3, seen);
    await capture(page, 'lobby-play-slot');
    await page.getByRole('link', { name: 'Back to the games' }).click();
    await page.getByRole('button', { name: 'Play Studio Dice' }).click();
    const dice = page.frameLocator('iframe[title="Studio Dice game"]');
    await playRounds(page, dice, 'Roll', 3, seen);
    await capture(page, 'lobby-play-dice');
    assert.ok(seen.size > 1, `the balance moved during play (${[...seen].join(', ')})`);
    assert.equal(
      await page.evaluate(() => (window as unknown as { journeyMarker?: number }).journeyMarker),
      1,
      'no page reload',
    );
    const net = amountOf(await page.getByTestId('net-position').textContent());
    const balance = await balanceOf(page);
    assert.equal(
      Math.round((Number(balance) - 50) * 100),
      Math.round(Number(net) * 100),
      'net position = balance − deposit',
    );

    // History and recall.
    await page.getByRole('link', { name: 'History' }).click();
    await until(
      async () => (await page.getByTestId('rounds').locator('tbody tr').count()) >= 6,
      'six rounds',
    );
    await capture(page, 'lobby-history');
    await page
      .getByRole('link', { name: /^Details/ })
      .first()
      .click();
    await page.getByRole('heading', { name: 'Round record' }).waitFor();
    await page.getByTestId('round-transactions').getByText('Bet', { exact: true }).waitFor();
    await capture(page, 'lobby-round-recall');

    // Withdrawal request: the first one always goes to review.
    await page.getByRole('link', { name: 'Cashier' }).click();
    const withdraw = page.getByRole('region', { name: 'Withdraw' });
    await withdraw.getByLabel('Amount (EUR)').fill('10.00');
    await withdraw.getByLabel('Account number (IBAN)').fill('DE89370400440532013000');
    await withdraw.getByRole('button', { name: 'Request withdrawal' }).click();
    await page.getByText('Withdrawal of €10.00 requested').waitFor();
    await until(
      async () => amountOf(await page.getByTestId('pending-withdrawal').textContent()) === '10.00',
      'the hold',
    );
    const withdrawalRow = page.getByTestId('payment-withdrawal').first();
    await until(
      async () => /In review|Requested/.test((await withdrawalRow.textContent()) ?? ''),
      'the request in review',
    );

    // Finance approves it in the back office; the provider pays it; the lobby shows it live.
    const finance = await open(desktop);
    await signInBackOffice(finance, platform.url, await createOperator(platform, 'finance'));
    await finance.page.getByRole('link', { name: 'Withdrawals' }).click();
    const queue = finance.page.getByTestId('withdrawals');
    await queue.getByRole('link', { name: `Ada ${lastName}` }).waitFor();
    await capture(finance.page, 'backoffice-withdrawals');
    await queue
      .getByRole('button', { name: /^Approve/ })
      .first()
      .click();
    await finance.page.getByLabel('Reason (kept in the audit log)').fill('First withdrawal, play checked');
    await finance.page.getByRole('button', { name: 'Approve and pay out' }).click();
    await finance.page.getByText('Withdrawal of €10.00 approved.').waitFor();
    await until(
      async () => /Paid/.test((await withdrawalRow.textContent()) ?? ''),
      'the payout in the lobby',
    );
    await until(
      async () => amountOf(await page.getByTestId('pending-withdrawal').textContent()) === '0.00',
      'no hold',
    );
    await capture(page, 'lobby-cashier-paid');

    // The back office's other pages, with the play and payments on them.
    await admin.page.reload();
    await admin.page.getByTestId('player-cash').waitFor();
    await admin.page.getByTestId('player-rounds').waitFor();
    await capture(admin.page, 'backoffice-player');
    await admin.page.getByRole('link', { name: 'Dashboard' }).click();
    await until(
      async () => Number(await admin.page.getByTestId('kpi-bets').textContent()) >= 6,
      'six bets on the dashboard',
    );
    await capture(admin.page, 'backoffice-dashboard');
    await admin.page.getByRole('link', { name: 'Games and providers' }).click();
    await admin.page.getByTestId('providers').getByText('Closed').waitFor();
    await capture(admin.page, 'backoffice-catalogue');
    await admin.page.getByRole('link', { name: 'Ledger check' }).click();
    await admin.page.getByRole('button', { name: 'Run the ledger check' }).click();
    await admin.page.getByText('All checks passed.').waitFor();
    await capture(admin.page, 'backoffice-ledger');
    await admin.page.getByRole('link', { name: 'Audit log' }).click();
    await admin.page.getByTestId('audit').getByText('First withdrawal, play checked').first().waitFor();
    await capture(admin.page, 'backoffice-audit');
    await page.getByRole('link', { name: 'Safer gambling' }).click();
    await page.getByTestId('limits').waitFor();
    await capture(page, 'lobby-safer-gambling');
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByTestId('kyc-status').waitFor();
    await capture(page, 'lobby-account');
  });

  it('closes play in the UI after self-exclusion, and says why on a wrong password', async () => {
    const player = await open(phone);
    const { page } = player;
    const email = await registerByApi(platform);
    await page.goto(`${platform.url}/`);
    const form = page.getByRole('region', { name: 'Log in' });
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('Password').fill('not the password');
    player.allow(/status of 401/);
    await form.getByRole('button', { name: 'Log in' }).click();
    await form.getByText('Wrong email or password.').waitFor();
    await page.reload();
    await logInLobby(player, platform.url, email);
    await page.getByRole('button', { name: 'Play Studio Fruits' }).and(page.locator(':enabled')).waitFor();

    await page.getByRole('link', { name: 'Safer gambling' }).click();
    await page.getByLabel('Exclude me for').selectOption('6m');
    await page.getByRole('button', { name: 'Self-exclude', exact: true }).click();
    await page.getByRole('alertdialog', { name: 'Self-exclude now?' }).waitFor();
    await page.getByRole('button', { name: 'Self-exclude for 6 months' }).click();
    await page.getByText(/You are self-excluded until/).waitFor();

    await logInLobby(player, platform.url, email);
    await page.getByRole('link', { name: 'Games' }).click();
    await until(
      async () => /self-excluded/.test((await page.getByTestId('play-blocked').textContent()) ?? ''),
      'the notice',
    );
    assert.equal(await page.getByRole('button', { name: 'Play Studio Fruits' }).isDisabled(), true);
    await page.goto(`${platform.url}/play/studio-fruits`);
    await page.getByRole('heading', { name: 'Studio Fruits' }).waitFor();
    await page.getByTestId('play-blocked').waitFor();
    assert.equal(await page.locator('iframe').count(), 0, 'no game frame for a self-excluded player');
    await capture(page, 'lobby-self-excluded');
    await page.getByRole('link', { name: 'Cashier' }).click();
    assert.equal(
      await page
        .getByRole('region', { name: 'Deposit' })
        .getByRole('button', { name: 'Deposit' })
        .isDisabled(),
      true,
    );
  });

  it('shows each role only the actions it may take', async () => {
    const email = await registerByApi(platform);
    const players = await api<{ items: { playerId: string }[] }>(
      platform,
      'GET',
      `/admin/v1/players?query=${encodeURIComponent(email)}`,
      undefined,
      await adminToken(platform),
    );
    const playerId = players.items[0]?.playerId ?? '';
    const navOf = async (watched: WatchedPage) =>
      (
        await watched.page
          .getByRole('navigation', { name: 'Back office' })
          .getByRole('link')
          .allTextContents()
      ).sort();

    const support = await open(desktop);
    await signInBackOffice(support, platform.url, await createOperator(platform, 'support'));
    assert.deepEqual(await navOf(support), ['Audit log', 'Dashboard', 'Games and providers', 'Players']);
    await support.page.goto(`${platform.url}/backoffice/players/${playerId}`);
    await support.page.getByRole('button', { name: 'Set KYC status' }).waitFor();
    await support.page.getByRole('button', { name: 'Set status' }).waitFor();
    await support.page
      .getByTestId('player-audit')
      .or(support.page.getByText('No audit rows about this player.'))
      .waitFor();
    assert.equal(await support.page.getByRole('button', { name: 'Make adjustment' }).count(), 0);
    await capture(support.page, 'backoffice-player-support');
    await support.page.getByRole('link', { name: 'Games and providers' }).click();
    await support.page.getByTestId('games').waitFor();
    assert.equal(await support.page.getByRole('button', { name: /Switch (on|off)|gaming/ }).count(), 0);
    await support.page.goto(`${platform.url}/backoffice/withdrawals`);
    await support.page.getByText('Your role cannot see this page.').waitFor();

    const finance = await open(desktop);
    await signInBackOffice(finance, platform.url, await createOperator(platform, 'finance'));
    assert.deepEqual(await navOf(finance), [
      'Dashboard',
      'Games and providers',
      'Ledger check',
      'Players',
      'Withdrawals',
    ]);
    await finance.page.goto(`${platform.url}/backoffice/players/${playerId}`);
    await finance.page.getByRole('button', { name: 'Make adjustment' }).waitFor();
    assert.equal(await finance.page.getByRole('button', { name: 'Set KYC status' }).count(), 0);
    assert.equal(await finance.page.getByRole('button', { name: 'Set status' }).count(), 0);
    assert.equal(await finance.page.getByRole('heading', { name: 'Audit trail' }).count(), 0);

    const risk = await open(desktop);
    await signInBackOffice(risk, platform.url, await createOperator(platform, 'risk'));
    assert.deepEqual(await navOf(risk), ['Audit log', 'Dashboard', 'Games and providers', 'Players']);
    await risk.page.goto(`${platform.url}/backoffice/players/${playerId}`);
    await risk.page.getByRole('button', { name: 'Set status' }).waitFor();
    assert.equal(await risk.page.getByRole('button', { name: 'Set KYC status' }).count(), 0);
    assert.equal(await risk.page.getByRole('button', { name: 'Make adjustment' }).count(), 0);
  });

  it('reminds the player at the reality-check interval', async () => {
    const player = await open(desktop);
    const { page, context } = player;
    await context.clock.install();
    const email = await registerByApi(platform);
    await logInLobby(player, platform.url, email);
    await page.getByRole('link', { name: 'Safer gambling' }).click();
    await page.getByLabel('Remind me').selectOption('5');
    await page.getByRole('button', { name: 'Save reminder' }).click();
    await page.getByText('Saved.').waitFor();
    await page.getByTestId('next-reality-check').waitFor();
    assert.equal(
      await page.getByRole('alertdialog', { name: 'Reality check' }).count(),
      0,
      'no reminder yet',
    );
    await page.clock.fastForward('05:30');
    const dialog = page.getByRole('alertdialog', { name: 'Reality check' });
    await dialog.waitFor();
    await dialog.getByText(/You have been logged in for/).waitFor();
    await capture(page, 'lobby-reality-check');
    await dialog.getByRole('button', { name: 'Keep playing' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it('logged no console error and passed the accessibility audit on every page', () => {
    const errors = pages.flatMap((watched) => watched.errors);
    assert.deepEqual(errors, [], 'console errors');
    const failing = accessibility.filter((item) => item.issues.length > 0);
    assert.deepEqual(failing, [], 'accessibility issues');
    assert.ok(
      accessibility.length >= 15,
      `pages audited: ${accessibility.map((item) => item.page).join(', ')}`,
    );
  });
});
