/**
 * In-process API of the local Socrata emulator, for tests, benchmarks and the demo host.
 *
 *   const emu = await startEmulator({ seed: 'sample' });
 *   // emu.url = 'http://127.0.0.1:<port>', emu.domain = '127.0.0.1:<port>', emu.store = state
 *   await emu.stop();
 */
import type { AddressInfo } from 'node:net';
import { DEFAULT_BODY_LIMIT } from './context';
import { seedDraft } from './dsmapi/index';
import type { FaultLogEntry } from './faults';
import { type AuthFailureStyle, EmulatorServer } from './server';
import { EmulatorStore } from './store';

export { SAMPLE } from './seed';
export { EmulatorStore } from './store';
export type { AppliedWrite, Dataset, DatasetInput, ColumnInput, ColumnDef, Row, UpsertResult, User, FaultCounters, SinkCounters } from './store';
export type { EmulatorContext } from './context';
export { parseFaultSpec } from './faults';

export interface EmulatorOptions {
  /** TCP port on 127.0.0.1; 0 or omitted = a free port. */
  port?: number;
  /** `sample` (default) loads the sample seed into an empty store; `none` starts empty. */
  seed?: 'sample' | 'none';
  /** Directory where state persists across restarts; in memory when omitted. */
  dataDir?: string;
  /** Alias of `dataDir`. */
  data?: string;
  /** Fault spec (see docs/EMULATOR.md). */
  faults?: string;
  /** Acknowledge upserts without storing them (benchmarks); counters in `store.sinkCounters`. */
  sink?: boolean;
  /** Request body limit in bytes (default 512 MiB). */
  bodyLimit?: number;
  /** `login`: bad credentials get 403 "You must be logged in…" without a `code` (default `code`: 401). */
  authFailures?: AuthFailureStyle;
  /** 3 (default) serves SODA3 (`/api/v3/views/{4x4}/query.json|export.csv`); 2 starts without it (404). */
  soda?: 2 | 3;
}

export interface RunningEmulator {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>` */
  domain: string;
  port: number;
  store: EmulatorStore;
  /** Changes the fault spec at runtime (undefined/'' = none); the fault sequence and counters restart. */
  setFaults(spec: string | undefined): void;
  /** Fault decisions taken since the faults were last set. */
  faultLog(): FaultLogEntry[];
  /** Switches how bad credentials are refused at runtime. */
  setAuthFailures(style: AuthFailureStyle): void;
  /** Serves SODA3 (3) or not (2, its paths answer 404) from now on; also `POST /__emulator/soda {"soda": 2}`. */
  setSoda(version: 2 | 3): void;
  stop(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const dataDir = opts.dataDir ?? opts.data;
  const store = new EmulatorStore({ ...(dataDir ? { dataDir } : {}), seed: opts.seed ?? 'sample' });
  // Revisions live in memory only: the sample draft is seeded at every start.
  if ((opts.seed ?? 'sample') === 'sample') seedDraft(store);
  let srv: EmulatorServer;
  try {
    srv = new EmulatorServer({
      store,
      sink: opts.sink ?? false,
      faults: opts.faults,
      bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
      soda: opts.soda ?? 3,
      ...(opts.authFailures ? { authFailures: opts.authFailures } : {}),
    });
  } catch (e) {
    store.close();
    throw e;
  }
  await new Promise<void>((resolve, reject) => {
    srv.server.once('error', reject);
    srv.server.listen(opts.port ?? 0, '127.0.0.1', () => {
      srv.server.off('error', reject);
      resolve();
    });
  });
  const port = (srv.server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    domain: `127.0.0.1:${port}`,
    port,
    store,
    setFaults: (spec) => srv.setFaults(spec),
    faultLog: () => srv.faultLog(),
    setAuthFailures: (style) => srv.setAuthFailures(style),
    setSoda: (version) => {
      srv.soda = version;
    },
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        srv.server.close(() => {
          store.close();
          resolve();
        });
        srv.server.closeAllConnections();
      });
      return stopped;
    },
  };
}
