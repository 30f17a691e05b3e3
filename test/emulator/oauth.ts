/**
 * OAuth 2.0 endpoints (`/oauth/**`) of the emulator.
 * Placeholder: answers 404 in the core envelope until the module is written.
 */
import type { EmulatorContext } from './context';

export function handleOAuth(ctx: EmulatorContext): void {
  ctx.sendCoreError(404, 'not-found', `Path not found: ${ctx.url.pathname}`, { path: ctx.url.pathname });
}
