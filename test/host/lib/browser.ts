// Opens the code-server workbench in headless Chromium (Debian's /usr/bin/chromium) with playwright-core.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('Chromium not found: install the "chromium" package or set CHROMIUM_PATH');
  return found;
}

export interface Workbench {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function openWorkbench(url: string, options: { timeoutMs?: number } = {}): Promise<Workbench> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    // Generous: on a loaded 2-core machine the first workbench load can take a minute.
    const timeout = options.timeoutMs ?? 180_000;
    await page.goto(url, { timeout });
    await page.waitForSelector('.monaco-workbench', { timeout });
    return { browser, context, page, close: () => browser.close() };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
