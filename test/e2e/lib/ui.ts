// Drives the VS Code workbench like a person would, through playwright-core. Every helper waits for what
// it needs to see and fails with a message naming what it was waiting for.
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { artifactsDir } from '../../host/lib/paths';

const QUICK_INPUT = '.quick-input-widget';
const DEFAULT_TIMEOUT = 20_000;

export class Ui {
  constructor(readonly page: Page) {}

  /** Presses Escape until no quick input, menu or hover is open (used between specs). */
  async reset(): Promise<void> {
    for (let i = 0; i < 3; i += 1) {
      const open = await this.page.locator(`${QUICK_INPUT}:visible, .context-view .monaco-menu:visible`).count();
      if (open === 0) return;
      await this.page.keyboard.press('Escape');
    }
  }

  /** Saves a full-page screenshot as test-artifacts/e2e/<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = join(artifactsDir('e2e'), `${name.replace(/[^\w.-]+/g, '-')}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** The quick input (command palette, input box, quick pick) once it is visible. */
  async quickInput(): Promise<Locator> {
    const widget = this.page.locator(QUICK_INPUT);
    await widget.waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT });
    return widget;
  }

  /** Opens the command palette (F1), types the command's title (e.g. "Socrata: Show Log") and runs it. */
  async runCommand(title: string): Promise<void> {
    try {
      await this.runCommandOnce(title, 'F1', 10_000);
    } catch {
      // The palette can close under the pointer, or the key can be lost, while the workbench moves focus (a
      // walkthrough or webview taking it): open it again once, with the other palette key.
      await this.page.keyboard.press('Escape');
      await this.runCommandOnce(title, 'Control+Shift+P', DEFAULT_TIMEOUT);
    }
  }

  private async runCommandOnce(title: string, key: string, clickTimeout: number): Promise<void> {
    await this.page.keyboard.press(key);
    const widget = await this.quickInput();
    const input = widget.locator('input.input');
    await input.fill(`>${title}`);
    const row = widget.locator('.quick-input-list .monaco-list-row', { has: this.page.locator('.label-name', { hasText: title }) }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: clickTimeout });
    } catch {
      throw new Error(`the command palette has no command "${title}"`);
    }
    await row.click({ timeout: clickTimeout });
    // The palette closes, or the command opens its own quick input in the same widget (new content).
    const deadline = Date.now() + DEFAULT_TIMEOUT;
    while (Date.now() < deadline) {
      if (!(await widget.isVisible())) return;
      const value = await input.inputValue().catch(() => '');
      if (!value.startsWith('>')) return;
      await this.page.waitForTimeout(100);
    }
    throw new Error(`the command palette did not run "${title}"`);
  }

  /** Closes every editor, and waits (up to 10 s) for the webviews to go. */
  async closeAllEditors(): Promise<void> {
    await this.runCommand('View: Close All Editors');
    await this.page
      .locator('iframe.webview')
      .first()
      .waitFor({ state: 'detached', timeout: 10_000 })
      .catch(() => undefined);
  }

  /** Answers an input box: types `text` and presses Enter. */
  async answerInput(text: string): Promise<void> {
    const widget = await this.quickInput();
    await widget.locator('input.input').fill(text);
    await this.page.keyboard.press('Enter');
  }

  /** The prompt text an input box or quick pick shows (its message or placeholder). */
  async quickInputPrompt(): Promise<string> {
    const widget = await this.quickInput();
    const message =
      (await widget
        .locator('.quick-input-message')
        .textContent()
        .catch(() => '')) ?? '';
    const placeholder = (await widget.locator('input.input').getAttribute('placeholder')) ?? '';
    return [placeholder, message].filter((s) => s.trim() !== '').join(' | ');
  }

  /**
   * Waits until the open input box asks for `match` (its prompt, message or title) with an empty value: the box a
   * command shows next, not the previous one still validating the last answer. `empty: false` for a first box
   * that may start with a suggested value.
   */
  async waitForInputBox(match: RegExp, { empty = true, timeoutMs = DEFAULT_TIMEOUT }: { empty?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let shown = '';
    while (Date.now() < deadline) {
      const widget = this.page.locator(QUICK_INPUT);
      if (await widget.isVisible()) {
        const title =
          (await widget
            .locator('.quick-input-title')
            .textContent()
            .catch(() => '')) ?? '';
        shown = `${await this.quickInputPrompt().catch(() => '')} ${title}`.trim();
        if (
          match.test(shown) &&
          (!empty ||
            (await widget
              .locator('input.input')
              .inputValue()
              .catch(() => 'x')) === '')
        ) {
          return;
        }
      }
      await this.page.waitForTimeout(100);
    }
    throw new Error(`no input box asking for ${String(match)}; it shows: ${shown || 'nothing'}`);
  }

  /**
   * Waits until the open quick pick lists an item whose label contains `label` (items loaded in the background
   * arrive late on a slow machine); fails naming what it lists and its placeholder (where pickers report errors).
   */
  async waitForQuickPickItem(label: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    const widget = await this.quickInput();
    const deadline = Date.now() + timeoutMs;
    let items: string[] = [];
    for (;;) {
      items = await this.quickPickItems();
      if (items.some((l) => l.includes(label))) return;
      if (Date.now() > deadline) break;
      await this.page.waitForTimeout(200);
    }
    const placeholder =
      (await widget
        .locator('input.input')
        .getAttribute('placeholder')
        .catch(() => '')) ?? '';
    throw new Error(
      `the quick pick lists no "${label}" after ${timeoutMs / 1000} s; it lists: ${items.join(' | ') || 'nothing'} (placeholder: ${placeholder})`,
    );
  }

  /** Picks the quick-pick item whose label contains `label` (types to filter, then clicks the row). */
  async pick(label: string): Promise<void> {
    const widget = await this.quickInput();
    await widget.locator('input.input').fill(label);
    const row = widget.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT });
    } catch {
      throw new Error(`the quick pick has no item "${label}"`);
    }
    await row.click();
  }

  /** The labels of the items the open quick pick shows. */
  async quickPickItems(): Promise<string[]> {
    const widget = await this.quickInput();
    const rows = widget.locator('.quick-input-list .monaco-list-row .label-name');
    return (await rows.allTextContents()).map((s) => s.trim());
  }

  /** Shows the Explorer and returns the row of `name` (a file or folder at the top level or expanded). */
  async explorerItem(name: string): Promise<Locator> {
    await this.runCommand('View: Show Explorer');
    const row = this.page
      .locator('.explorer-folders-view .monaco-list-row', { has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }) })
      .first();
    try {
      await row.waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT });
    } catch {
      throw new Error(`the Explorer shows no "${name}"`);
    }
    return row;
  }

  /** Opens a file from the Explorer (double-click). */
  async openFromExplorer(name: string): Promise<void> {
    const row = await this.explorerItem(name);
    await row.dblclick();
    await this.page.locator('.tabs-container .tab', { hasText: name }).first().waitFor({ timeout: DEFAULT_TIMEOUT });
  }

  /** Right-clicks `name` in the Explorer and picks the context-menu item labelled `item`. */
  async explorerContextMenu(name: string, item: string): Promise<void> {
    const row = await this.explorerItem(name);
    await row.click({ button: 'right' });
    await this.pickMenuItem(item);
  }

  /** The labels of an open context menu's items. */
  async menuItems(): Promise<string[]> {
    const menu = this.page.locator('.context-view .monaco-menu');
    await menu.waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT });
    return (await menu.locator('.action-item .action-label').allTextContents()).map((s) => s.trim()).filter((s) => s !== '');
  }

  /** Clicks the item labelled `item` in the open context menu. */
  async pickMenuItem(item: string): Promise<void> {
    const menu = this.page.locator('.context-view .monaco-menu');
    await menu.waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT });
    const entry = menu.locator('.action-item .action-label', { hasText: new RegExp(`^${escapeRegExp(item)}$`) }).first();
    if ((await entry.count()) === 0) {
      const items = await this.menuItems();
      throw new Error(`the context menu has no "${item}"; it has: ${items.join(', ')}`);
    }
    await entry.click();
    // A menu that has just opened can miss the click (the item is highlighted, the menu stays open): then run
    // the highlighted item with Enter. Waits are bounded; a menu that never closes is an error naming the item.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await menu.waitFor({ state: 'hidden', timeout: 5_000 });
        return;
      } catch {
        if (attempt >= 3) throw new Error(`the context menu stayed open after choosing "${item}"`);
        if ((await entry.count()) === 0) return;
        await entry.hover();
        await this.page.keyboard.press('Enter');
      }
    }
  }

  /**
   * Shows the view container of the activity-bar entry `label` in the side bar. Clicking the entry of the container
   * already shown hides the side bar (specs share one workbench, so another may have left it shown): click again then.
   */
  async showActivity(label: string): Promise<void> {
    const item = this.activityBarItem(label).first();
    await item.click();
    await this.page.waitForTimeout(500);
    if (!(await this.page.locator('.part.sidebar').isVisible())) await item.click();
  }

  /**
   * Signs in from the palette with "Socrata: Sign In with API Key" and waits for the greeting. Contributed commands
   * reach the palette once the extension is scanned, which can lag the workbench a little: the command is tried again.
   * Each answer waits for the next box: typed too early, it lands in the box still validating the last one.
   */
  async signInWithApiKey(domain: string, keyId: string, keySecret: string, greeting: RegExp): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.runCommand('Socrata: Sign In with API Key');
        break;
      } catch (error) {
        if (attempt >= 4) throw error;
        await this.page.keyboard.press('Escape');
        await this.page.waitForTimeout(3000);
      }
    }
    await this.waitForInputBox(/Socrata domain/, { empty: false });
    await this.answerInput(domain);
    await this.waitForInputBox(/API key id/);
    await this.answerInput(keyId);
    await this.waitForInputBox(/API key secret/);
    await this.answerInput(keySecret);
    await this.waitForNotification(greeting, 30_000);
  }

  /**
   * Shows the Socrata view signed in, the way a person first meets it: unless another spec signed in already, the
   * welcome view offers "Sign In with API Key"; it is clicked and the domain, key id and secret are answered, each
   * once its box is shown. Then waits for the row of the signed-in tree whose text contains `shows`, and returns it.
   * `beforeSignIn` runs while the welcome view is shown (e.g. for a screenshot).
   */
  async signInFromWelcome(options: { domain: string; keyId: string; keySecret: string; shows: string; beforeSignIn?: () => Promise<void> }): Promise<Locator> {
    await this.showActivity('Socrata');
    const sidebar = this.page.locator('.part.sidebar');
    const signIn = sidebar.getByRole('button', { name: 'Sign In with API Key' });
    const row = sidebar.locator('.monaco-list-row', { hasText: options.shows }).first();
    await Promise.race([signIn.waitFor({ timeout: 30_000 }), row.waitFor({ timeout: 30_000 })]);
    if (await signIn.isVisible()) {
      await options.beforeSignIn?.();
      await signIn.click();
      await this.answerInput(options.domain);
      await this.waitForInputBox(/key id/i);
      await this.answerInput(options.keyId);
      await this.waitForInputBox(/secret/i);
      await this.answerInput(options.keySecret);
    }
    await row.waitFor({ timeout: 30_000 });
    return row;
  }

  /** The activity-bar entry whose label starts with `label` (e.g. "Socrata"). */
  activityBarItem(label: string): Locator {
    return this.page.locator(`.part.activitybar .action-item a.action-label[aria-label^="${label.replace(/"/g, '\\"')}"]`);
  }

  /**
   * The content of the active webview (e.g. the import preview). Webviews are nested iframes:
   * `iframe.webview` holds `#active-frame`, which holds the extension's HTML.
   * With several webviews open, `index` picks one (in DOM order).
   */
  async webview(index = 0): Promise<FrameLocator> {
    const outer = this.page.locator('iframe.webview.ready').nth(index);
    try {
      await outer.waitFor({ state: 'attached', timeout: DEFAULT_TIMEOUT });
    } catch {
      throw new Error('no webview is open');
    }
    const frame = this.page.frameLocator('iframe.webview.ready').nth(index).frameLocator('#active-frame');
    await frame.locator('body').waitFor({ state: 'attached', timeout: DEFAULT_TIMEOUT });
    return frame;
  }

  /** The messages of the notification toasts currently shown. */
  async notifications(): Promise<string[]> {
    return (await this.page.locator('.notifications-toasts .notification-list-item-message').allTextContents()).map((s) => s.trim());
  }

  /** Waits for a notification whose message matches, and returns its text. */
  async waitForNotification(match: RegExp | string, timeoutMs = DEFAULT_TIMEOUT): Promise<string> {
    const toast = this.page.locator('.notifications-toasts .notification-list-item-message', { hasText: match }).first();
    try {
      await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    } catch {
      const seen = await this.notifications();
      throw new Error(`no notification matching ${String(match)}; shown: ${seen.length > 0 ? seen.join(' | ') : 'none'}`);
    }
    return ((await toast.textContent()) ?? '').trim();
  }

  /** Clicks a button (e.g. "Retry") on the notification matching `match`. */
  async clickNotificationButton(match: RegExp | string, button: string): Promise<void> {
    const toast = this.page
      .locator('.notifications-toasts .notification-toast', { has: this.page.locator('.notification-list-item-message', { hasText: match }) })
      .first();
    await toast.waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT });
    await toast.locator('.monaco-button', { hasText: button }).first().click();
  }

  /** Closes all notification toasts. */
  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
  }

  /** The Output panel's selected channel (e.g. "Socrata"), once the panel is visible. */
  async outputChannel(): Promise<string> {
    const select = this.page.locator('.part.panel .monaco-select-box, .part.auxiliarybar .monaco-select-box').first();
    await select.waitFor({ state: 'visible', timeout: DEFAULT_TIMEOUT });
    return ((await select.locator('option:checked').textContent()) ?? '').trim();
  }

  /** Waits until the Output panel shows the channel `name`. */
  async waitForOutputChannel(name: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let shown = '';
    while (Date.now() < deadline) {
      shown = await this.outputChannel().catch(() => '');
      if (shown === name) return;
      await this.page.waitForTimeout(200);
    }
    throw new Error(`the Output panel shows "${shown || 'nothing'}", not the "${name}" channel`);
  }

  /** Switches the colour theme through "Preferences: Color Theme" and waits until the workbench uses it. */
  async setTheme(kind: 'dark' | 'light', themeName = kind === 'dark' ? 'Dark Modern' : 'Light Modern'): Promise<void> {
    await this.runCommand('Preferences: Color Theme');
    await this.pick(themeName);
    await this.page.locator(kind === 'dark' ? '.monaco-workbench.vs-dark' : '.monaco-workbench.vs').waitFor({ timeout: DEFAULT_TIMEOUT });
  }

  /** `dark`, `light` or `high-contrast`, from the workbench's theme class. */
  async themeKind(): Promise<'dark' | 'light' | 'high-contrast'> {
    const classes = (await this.page.locator('.monaco-workbench').getAttribute('class')) ?? '';
    if (/\bhc-(black|light)\b/.test(classes)) return 'high-contrast';
    return /\bvs-dark\b/.test(classes) ? 'dark' : 'light';
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
