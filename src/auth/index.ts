import * as vscode from 'vscode';
import { AuthCommandHandlers, registerAuthCommands } from '../commands/auth';
import { SocrataAccounts } from './accounts';
import { SodaClient } from '../soda/client';
import { type ClientFactory, type IdentityClient } from './client';
import { SocrataUriHandler } from './oauthFlow';
import { AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, SocrataAuthenticationProvider } from './provider';
import { AccountStore } from './store';

export { SocrataAccounts, type Connection, type GetClientOptions } from './accounts';
export { AUTH_PROVIDER_ID } from './provider';
export { domainScope } from './model';
export type { AccountDescription } from './model';

/**
 * Registers the `socrata` authentication provider, the account commands and the OAuth UriHandler, and
 * returns the accounts API for the other features. Nothing prompts here: consumers ask silently first.
 */
export function registerAuth(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): SocrataAccounts<SodaClient>;
export function registerAuth<C extends IdentityClient>(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, factory: ClientFactory<C>): SocrataAccounts<C>;
export function registerAuth(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  factory: ClientFactory<IdentityClient> = sodaClientFactory,
): SocrataAccounts<IdentityClient> {
  const store = new AccountStore(context.secrets, { warn: (m) => log.warn(m) });
  const provider = new SocrataAuthenticationProvider(store, context.secrets, log);
  const accounts = new SocrataAccounts(provider, store, factory, log);
  const uriHandler = new SocrataUriHandler(log);
  const handlers = new AuthCommandHandlers(accounts, uriHandler, context.extension.id, log);
  const signIn = (domain: string | undefined) => handlers.signInInteractively(domain);
  provider.setInteractiveSignIn(signIn);
  accounts.signInInteractively = signIn;
  context.subscriptions.push(
    provider,
    accounts,
    uriHandler,
    vscode.authentication.registerAuthenticationProvider(AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, provider, { supportsMultipleAccounts: true }),
    vscode.window.registerUriHandler(uriHandler),
    ...registerAuthCommands(handlers, log),
  );
  return accounts;
}

/** Builds the extension's SODA clients for accounts. */
export const sodaClientFactory: ClientFactory<SodaClient> = (options) =>
  new SodaClient({ domain: options.domain, auth: options.auth, appToken: options.appToken, product: 'vscode-extension' });
