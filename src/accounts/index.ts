import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { commandBoundary } from '../ui/boundary';
import { authBoundaryOptions, AuthCommandHandlers, registerAuthCommands } from './commands';
import { SocrataAccounts } from './accounts';
import { SodaClient, type SodaClientOptions } from '../soda/client';
import type { HttpLogEvent } from '../soda/http';
import { type ClientFactory, type IdentityClient } from './client';
import { SocrataUriHandler } from './oauthFlow';
import { AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, type InteractiveSignIn, SocrataAuthenticationProvider } from './provider';
import { AccountStore } from './store';

export { SocrataAccounts, type Connection, type GetClientOptions } from './accounts';
export { AUTH_PROVIDER_ID } from './provider';
export { accountLabel, domainScope } from './model';
export { findWritableConnection } from './writable';
export type { AccountDescription } from './model';

/**
 * Registers the `socrata` authentication provider, the account commands and the OAuth UriHandler, and
 * returns the accounts API for the other features. Nothing prompts here: consumers ask silently first.
 */
export function registerAuth(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): SocrataAccounts<SodaClient>;
export function registerAuth<C extends IdentityClient>(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  factory: ClientFactory<C>,
): SocrataAccounts<C>;
export function registerAuth(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  factory: ClientFactory<IdentityClient> = createSodaClientFactory(log),
): SocrataAccounts<IdentityClient> {
  const store = new AccountStore(context.secrets, { warn: (m) => log.warn(m) });
  // The provider and the accounts ask through the commands' chooser, which needs the accounts: bound late, by call.
  const signIn: InteractiveSignIn = (domain) => handlers.signInInteractively(domain);
  const provider = new SocrataAuthenticationProvider(store, context.secrets, log, signIn);
  const accounts = new SocrataAccounts(provider, store, factory, log, signIn);
  const uriHandler = new SocrataUriHandler(log);
  const handlers = new AuthCommandHandlers(accounts, uriHandler, context.extension.id, log);
  context.subscriptions.push(
    provider,
    accounts,
    uriHandler,
    vscode.authentication.registerAuthenticationProvider(AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, provider, { supportsMultipleAccounts: true }),
    vscode.window.registerUriHandler(uriHandler),
    ...registerAuthCommands(handlers, commandBoundary(log, authBoundaryOptions)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('http') || e.affectsConfiguration('socrata.http')) accounts.forgetClients();
    }),
  );
  // The walkthrough's "Sign in" step completes on this context key: true once an account is signed in.
  const signedIn = (): void =>
    void accounts.list().then(
      (list) =>
        vscode.commands.executeCommand(
          'setContext',
          SIGNED_IN_CONTEXT,
          list.some((a) => a.invalid !== true),
        ),
      () => undefined,
    );
  context.subscriptions.push(accounts.onDidChange(signedIn));
  signedIn();
  return accounts;
}

/** True while at least one account is signed in (with a credential the portal has not refused). */
export const SIGNED_IN_CONTEXT = 'socrata.signedIn';

/**
 * Builds the extension's SODA clients for accounts: VS Code's `http.proxy` (credentials allowed in the URL),
 * `http.proxyAuthorization`, `http.noProxy`, `http.proxyStrictSSL` and `http.systemCertificates` settings and
 * `socrata.http.caCertificates` are passed to the client (without `http.proxy` the environment's
 * HTTPS_PROXY/NO_PROXY apply), and every request is recorded in the Socrata log through the gateway's hook, which
 * only ever sees redacted headers and URLs (proxy credentials never reach it). The same hook tells the accounts
 * when a request finally failed with 401, or with the 403 "You must be logged in" some portals answer instead
 * (`onUnauthorized`).
 */
export function createSodaClientFactory(log: vscode.LogOutputChannel): ClientFactory<SodaClient> {
  return (options) => {
    const network = networkSettings();
    return new SodaClient({
      domain: options.domain,
      auth: options.auth,
      appToken: options.appToken,
      product: 'vscode-extension',
      ...network,
      onLog: (event) => {
        logHttp(log, event);
        // A 401, or the 403 "You must be logged in" some portals answer instead (the gateway recognises both).
        if (event.phase === 'error' && (event.status === 401 || event.credentialsRejected === true)) options.onUnauthorized?.();
      },
    });
  };
}

/** One line per answered request (method, path, status, duration, request id); retries and failures as warnings. */
export function logHttp(log: vscode.LogOutputChannel, event: HttpLogEvent): void {
  const target = `${event.method} ${event.url}`;
  const id = `[${event.operationId}${event.attempt > 1 ? ` attempt ${event.attempt}` : ''}]`;
  switch (event.phase) {
    case 'request':
      log.trace(`→ ${target} ${id}`);
      break;
    case 'response':
      log.info(`${target} → ${event.status ?? '?'} in ${event.durationMs ?? 0} ms ${id}`);
      break;
    case 'retry':
      log.warn(`${target} → ${event.status ?? event.error ?? 'failed'}; retrying in ${event.delayMs ?? 0} ms ${id}`);
      break;
    case 'error':
      log.error(`${target} → ${event.error ?? event.status ?? 'failed'} ${id}`);
      break;
  }
}

/** The proxy and certificate settings, as the gateway takes them (see src/soda/network.ts). */
export function networkSettings(): Pick<SodaClientOptions, 'proxy' | 'tls'> {
  const http = vscode.workspace.getConfiguration('http');
  const proxyUrl = http.get<string>('proxy')?.trim();
  const noProxy = http.get<string[]>('noProxy') ?? [];
  const authorization = http.get<string | null>('proxyAuthorization')?.trim();
  const strictSSL = http.get<boolean>('proxyStrictSSL') ?? true;
  const caFiles = (vscode.workspace.getConfiguration('socrata.http').get<string[]>('caCertificates') ?? [])
    .filter((f): f is string => typeof f === 'string' && f.trim() !== '')
    .map((f) => (f.trim().startsWith('~/') ? join(homedir(), f.trim().slice(2)) : f.trim()));
  return {
    ...(proxyUrl ? { proxy: { url: proxyUrl, noProxy: noProxy.join(','), strictSSL, ...(authorization ? { authorization } : {}) } } : {}),
    tls: { caFiles, systemCertificates: http.get<boolean>('systemCertificates') ?? true },
  };
}
