/** An error the emulator turns into an HTTP answer (envelope A or B). */
export class EmulatorHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly data: Record<string, unknown> = {},
    /** 'soda' = envelope B `{message, errorCode, data}`; 'core' = envelope A `{code, error, message, data}`. */
    readonly envelope: 'soda' | 'core' = 'soda',
  ) {
    super(message);
    this.name = 'EmulatorHttpError';
  }
}

export function sodaError(status: number, code: string, message: string, data: Record<string, unknown> = {}): EmulatorHttpError {
  return new EmulatorHttpError(status, code, message, data, 'soda');
}

export function coreError(status: number, code: string, message: string, data: Record<string, unknown> = {}): EmulatorHttpError {
  return new EmulatorHttpError(status, code, message, data, 'core');
}
