// The walkthrough's steps tick themselves: every step has completion events, and each names something real. An
// `onCommand:` event fires when the command is invoked, even when the person then cancels it (a dismissed input
// box or file dialog), so no step uses one: each completes on a context key the extension sets after the action
// succeeded (`onContext:`, a key set somewhere in src/), or on its view being shown (`onView:`).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..');
interface Step {
  id: string;
  completionEvents?: string[];
}
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  contributes: { commands: { command: string }[]; views: Record<string, { id: string }[]>; walkthroughs: { id: string; steps: Step[] }[] };
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [readFileSync(full, 'utf8')] : [];
  });
}

describe('manifest: the walkthrough steps complete on real events', () => {
  const steps = manifest.contributes.walkthroughs.flatMap((w) => w.steps);
  const commands = new Set(manifest.contributes.commands.map((c) => c.command));
  const views = new Set(Object.values(manifest.contributes.views).flatMap((v) => v.map((x) => x.id)));
  const code = sources(join(root, 'src')).join('\n');

  it('every step has completion events', () => {
    assert.ok(steps.length >= 5);
    for (const step of steps) assert.ok((step.completionEvents ?? []).length > 0, `${step.id} has completionEvents`);
  });

  it('each event names a contributed command, a contributed view, or a context key the extension sets', () => {
    for (const step of steps) {
      for (const event of step.completionEvents ?? []) {
        const [kind, name = ''] = event.split(/:(.*)/s);
        if (kind === 'onCommand') assert.ok(commands.has(name), `${step.id}: ${name} is a contributed command`);
        else if (kind === 'onView') assert.ok(views.has(name), `${step.id}: ${name} is a contributed view`);
        else if (kind === 'onContext') {
          assert.match(name, /^[\w.]+$/, `${step.id}: one context key (${name})`);
          const constant = [...code.matchAll(/export const (\w+) = '([\w.]+)'/g)].find((m) => m[2] === name)?.[1];
          const set = new RegExp(`'setContext',\\s*(?:'${name.replace(/\./g, '\\.')}'${constant ? `|${constant}` : ''})\\s*,`);
          assert.match(code, set, `${step.id}: the extension sets ${name}`);
        } else assert.fail(`${step.id}: unexpected completion event ${event}`);
      }
    }
  });

  it('signing in and previewing complete on context keys set after the action, not on invoking a command (which may be cancelled or refused)', () => {
    assert.deepEqual(steps.find((s) => s.id === 'signIn')?.completionEvents, ['onContext:socrata.signedIn']);
    assert.deepEqual(steps.find((s) => s.id === 'preview')?.completionEvents, ['onContext:socrata.didPreview']);
    const commandEvents = steps.flatMap((s) => (s.completionEvents ?? []).filter((e) => e.startsWith('onCommand:')).map((e) => `${s.id}: ${e}`));
    assert.deepEqual(commandEvents, []);
  });
});
