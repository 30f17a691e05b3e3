// What the harness and the test-only runner extension exchange (both sides import these types).

/** Written by the harness; its path is in SOCRATA_HOST_TEST_CONFIG for the extension host. */
export interface HostTestConfig {
  /** Where the runner writes HostTestResults (JSON) when the suite has finished. */
  resultsFile: string;
  /** Compiled test files (CommonJS, `vscode` external), run in this order. */
  testFiles: string[];
  /** Absolute path of the mocha package to load. */
  mochaPath: string;
  testTimeoutMs: number;
  grep?: string;
  /** `<publisher>.<name>` of the extension under test. */
  extensionId: string;
  /** Absolute path of the extension's package.json in the repository (its manifest). */
  manifestPath: string;
  /** The local Socrata emulator, when it is available: base URL and domain (`127.0.0.1:<port>`). */
  emulator?: { url: string; domain: string };
  /** The workspace folder the workbench opened. */
  workspaceFolder: string;
}

export interface HostTestResult {
  title: string;
  fullTitle: string;
  file?: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number;
  error?: string;
}

export interface HostTestResults {
  passed: number;
  failed: number;
  pending: number;
  durationMs: number;
  tests: HostTestResult[];
  /** Lines the tests asked to print (e.g. the measured activation time). */
  notes: string[];
}
