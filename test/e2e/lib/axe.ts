// axe-core in a webview: the script is evaluated in the webview's inner frame through the debugging protocol (the
// webview's CSP allows only its own nonce'd scripts, and evaluation from the protocol is not subject to it).
import { readFileSync } from 'node:fs';
import type { Frame, Page } from 'playwright-core';

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** The inner frame (`#active-frame`) of the `index`-th ready webview. */
export async function webviewFrame(page: Page, index = 0): Promise<Frame> {
  const outer = await page.locator('iframe.webview.ready').nth(index).elementHandle();
  const outerFrame = await outer?.contentFrame();
  const inner = await outerFrame?.locator('#active-frame').elementHandle();
  const frame = await inner?.contentFrame();
  if (!frame) throw new Error('no webview frame');
  return frame;
}

/** Runs axe-core (WCAG 2 A/AA and best practices) on the webview's document; returns the violations. */
export async function axeViolations(frame: Frame): Promise<AxeViolation[]> {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await frame.evaluate(source);
  // In the page (no DOM types here): run axe and keep what an assertion message needs.
  return frame.evaluate<AxeViolation[]>(`(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '')) }));
  })()`);
}

/** The serious and critical violations, one line each, for an assertion message. */
export function serious(violations: readonly AxeViolation[]): string[] {
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).join(' | ')}`);
}
