/**
 * `npm run emulator -- --port <p> [--data <dir>] [--faults <spec>] [--seed sample|none] [--sink] [--soda 2|3]`
 * Prints `SODA emulator listening on http://127.0.0.1:<p>` and runs until SIGINT/SIGTERM.
 */
import { parseFaultSpec } from './faults';
import { startEmulator, type EmulatorOptions } from './index';

function usage(problem: string): never {
  process.stderr.write(`emulator: ${problem}\nusage: emulator --port <p> [--data <dir>] [--faults <spec>] [--seed sample|none] [--sink] [--soda 2|3]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): EmulatorOptions {
  const opts: EmulatorOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 65535) usage(`--port: "${v}" is not a port number`);
        opts.port = Number(v);
        break;
      }
      case '--data':
        opts.dataDir = value();
        break;
      case '--faults': {
        const v = value();
        try {
          parseFaultSpec(v);
        } catch (e) {
          usage((e as Error).message);
        }
        opts.faults = v;
        break;
      }
      case '--seed': {
        const v = value();
        if (v !== 'sample' && v !== 'none') usage(`--seed: expected sample or none, got "${v}"`);
        opts.seed = v;
        break;
      }
      case '--auth-failures': {
        const v = value();
        if (v !== 'code' && v !== 'login') usage(`--auth-failures: expected code or login, got "${v}"`);
        opts.authFailures = v;
        break;
      }
      case '--sink':
        opts.sink = true;
        break;
      case '--soda': {
        const v = value();
        if (v !== '2' && v !== '3') usage(`--soda: expected 2 (no SODA3 endpoints) or 3, got "${v}"`);
        opts.soda = v === '2' ? 2 : 3;
        break;
      }
      default:
        usage(`unknown argument "${a}"`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  const emu = await startEmulator(parseArgs(process.argv.slice(2)));
  process.stdout.write(`SODA emulator listening on ${emu.url}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void emu.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`emulator: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
