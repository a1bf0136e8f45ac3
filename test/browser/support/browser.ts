// Debian's Chromium driven by playwright-core (never a downloaded browser): pages that record
// every console error and uncaught exception, screenshots under test-results/screenshots/, and
// an in-page accessibility audit (names of controls, contrast, language, headings).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';

export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const chromiumMissing: string | false = existsSync(chromiumPath)
  ? false
  : `no Chromium at ${chromiumPath} (apt-get install -y chromium; .ci/run does)`;

export const screenshotDir = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'test-results',
  'screenshots',
);

export const phone: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  hasTouch: true,
};
export const desktop: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // As root in a container, and on a machine whose network is closed.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught exceptions, with the page URL they came from. */
  readonly errors: string[];
  /** Expect one console error matching this (a refusal the test provokes on purpose). */
  allow(pattern: RegExp): void;
}

export async function openPage(browser: Browser, options: BrowserContextOptions): Promise<WatchedPage> {
  const context = await browser.newContext({ ...options, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const errors: string[] = [];
  const allowed: RegExp[] = [];
  const record = (text: string) => {
    const index = allowed.findIndex((pattern) => pattern.test(text));
    if (index >= 0) allowed.splice(index, 1);
    else errors.push(`${page.url()}: ${text}`);
  };
  page.on('console', (message) => {
    if (message.type() === 'error') record(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => record(`uncaught: ${error.message}`));
  return { context, page, errors, allow: (pattern) => allowed.push(pattern) };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  // A sticky header would otherwise sit wherever the page was scrolled to.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** "€1,234.50" → "1234.50", "-€3.12" → "-3.12", "48.00 EUR" → "48.00". */
export function amountOf(text: string | null): string {
  const match = /([-−])?[^\d-−]*([\d,]+(?:\.\d+)?)/.exec(text ?? '');
  return match ? `${match[1] ? '-' : ''}${(match[2] ?? '').replaceAll(',', '')}` : '';
}

export interface AccessibilityIssue {
  readonly rule: string;
  readonly element: string;
  readonly detail: string;
}

/**
 * A basic audit of what is on screen: the document has a language and a title; there is an h1;
 * every visible form control, button and link has an accessible name; images and SVG pictures are
 * named; text meets WCAG AA contrast (4.5:1, 3:1 for large text) against its actual background.
 */
export async function auditAccessibility(page: Page): Promise<AccessibilityIssue[]> {
  return page.evaluate(() => {
    const issues: { rule: string; element: string; detail: string }[] = [];
    const describe = (element: Element) => {
      const id = element.id ? `#${element.id}` : '';
      const text = (element.textContent ?? '').trim().slice(0, 40);
      return `<${element.tagName.toLowerCase()}${id}> ${text}`;
    };
    const visible = (element: Element) => {
      const box = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
    };
    const textOf = (id: string) => document.getElementById(id)?.textContent?.trim() ?? '';
    const nameOf = (element: Element): string => {
      const label = element.getAttribute('aria-label');
      if (label?.trim()) return label.trim();
      const labelledBy = element.getAttribute('aria-labelledby');
      if (labelledBy) return labelledBy.split(/\s+/).map(textOf).join(' ').trim();
      if (element.id) {
        const forLabel = document.querySelector(`label[for="${CSS.escape(element.id)}"]`);
        if (forLabel?.textContent?.trim()) return forLabel.textContent.trim();
      }
      const wrapping = element.closest('label');
      if (wrapping?.textContent?.trim()) return wrapping.textContent.trim();
      if (element instanceof HTMLButtonElement || element instanceof HTMLAnchorElement) {
        return (element.textContent ?? '').trim();
      }
      return (element.getAttribute('title') ?? '').trim();
    };
    if (!document.documentElement.lang) issues.push({ rule: 'lang', element: 'html', detail: 'no lang' });
    if (!document.title.trim()) issues.push({ rule: 'title', element: 'title', detail: 'empty title' });
    if (!document.querySelector('h1')) issues.push({ rule: 'heading', element: 'body', detail: 'no h1' });
    for (const element of document.querySelectorAll('input, select, textarea, button, a[href]')) {
      if (!visible(element) || (element instanceof HTMLInputElement && element.type === 'hidden')) continue;
      if (!nameOf(element))
        issues.push({ rule: 'name', element: describe(element), detail: 'no accessible name' });
    }
    for (const element of document.querySelectorAll('img, svg[role="img"]')) {
      if (!visible(element)) continue;
      const named = element instanceof HTMLImageElement ? element.alt !== undefined : !!nameOf(element);
      if (!named) issues.push({ rule: 'image', element: describe(element), detail: 'unnamed picture' });
    }
    const parse = (color: string): [number, number, number, number] => {
      const parts = /rgba?\(([^)]+)\)/
        .exec(color)?.[1]
        ?.split(/[\s,/]+/)
        .filter(Boolean)
        .map(Number) ?? [0, 0, 0];
      return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
    };
    const luminance = ([r, g, b]: number[]) => {
      const channel = (value: number) => {
        const c = value / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r ?? 0) + 0.7152 * channel(g ?? 0) + 0.0722 * channel(b ?? 0);
    };
    const background = (element: Element | null): number[] => {
      for (let node = element; node; node = node.parentElement) {
        const [r, g, b, a] = parse(getComputedStyle(node).backgroundColor);
        if (a > 0.9) return [r, g, b];
      }
      return [255, 255, 255];
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || seen.has(parent) || !(node.textContent ?? '').trim()) continue;
      seen.add(parent);
      if (!visible(parent) || parent.closest('[aria-hidden="true"], .sr-only, noscript, option')) continue;
      // WCAG 1.4.3 exempts controls that are not available.
      if (parent.closest('button:disabled, [aria-disabled="true"]')) continue;
      const style = getComputedStyle(parent);
      const [r, g, b, a] = parse(style.color);
      const back = background(parent);
      const fore = a >= 1 ? [r, g, b] : [0, 1, 2].map((i) => [r, g, b][i]! * a + back[i]! * (1 - a));
      const l1 = luminance(fore);
      const l2 = luminance(back);
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const size = Number.parseFloat(style.fontSize);
      const bold = Number(style.fontWeight) >= 700;
      const large = size >= 24 || (bold && size >= 18.66);
      if (ratio < (large ? 3 : 4.5)) {
        issues.push({ rule: 'contrast', element: describe(parent), detail: `${ratio.toFixed(2)}:1` });
      }
    }
    return issues;
  });
}

/** Presses Tab until the element matching `selector` has focus (at most `limit` presses). */
export async function tabTo(page: Page, selector: string, limit = 40): Promise<void> {
  for (let index = 0; index < limit; index++) {
    if (await page.evaluate((wanted) => document.activeElement?.matches(wanted) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** Whether the focused element shows a focus indicator (an outline or a box shadow). */
export async function focusVisible(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return false;
    const style = getComputedStyle(element);
    return (
      (style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0) ||
      style.boxShadow !== 'none'
    );
  });
}
