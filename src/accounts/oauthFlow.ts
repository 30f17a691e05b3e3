import * as vscode from 'vscode';
import { parseDomain } from '../soda/domain';
import { type OAuthClientConfig } from './model';
import { authorizeUrl, awaitAuthorizationCode, createState, exchangeCode } from './oauth';

export const OAUTH_CALLBACK_PATH = '/oauth-callback';

/**
 * The extension's one UriHandler, registered at activation and turned into an event. Sign-in attempts
 * subscribe for their duration only.
 */
export class SocrataUriHandler implements vscode.UriHandler, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidReceiveOAuthCallback = this.emitter.event;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  handleUri(uri: vscode.Uri): void {
    if (uri.path === OAUTH_CALLBACK_PATH) this.emitter.fire(uri);
    else this.log.warn(`Ignored an editor link to an unknown path (${uri.path}).`);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

export interface OAuthFlowOptions {
  readonly domain: string;
  readonly client: OAuthClientConfig;
  readonly extensionId: string;
  readonly handler: SocrataUriHandler;
  readonly log: vscode.LogOutputChannel;
  readonly token: vscode.CancellationToken;
  /** Default five minutes. */
  readonly timeoutMs?: number;
  /** Offer the paste box (default true). */
  readonly offerPaste?: boolean;
}

/** The editor's callback URI as the browser must reach it (desktop: vscode://…; browser/remote: an https URL). */
export async function editorCallbackUri(extensionId: string): Promise<vscode.Uri> {
  const local = vscode.Uri.parse(`${vscode.env.uriScheme}://${extensionId}${OAUTH_CALLBACK_PATH}`);
  return vscode.env.asExternalUri(local);
}

/** Runs the browser part of the authorization-code flow and returns the access token. */
export async function runOAuthFlow(options: OAuthFlowOptions): Promise<string> {
  const domain = parseDomain(options.domain);
  const callback = await editorCallbackUri(options.extensionId);
  // toString(true): the Uri's own encoding would escape the "=" and "&" of a web callback's query
  // (`/callback?vscode-reqid=…&vscode-scheme=…`), which the workbench could then no longer read.
  const state = createState(callback.toString(true));
  const url = authorizeUrl(domain, { clientId: options.client.clientId, redirectUri: options.client.redirectUri, state });
  const abort = new AbortController();
  const cancel = options.token.onCancellationRequested(() => abort.abort());
  let finished = false;
  try {
    options.log.info(`OAuth: opening the authorization page of ${domain.host}.`);
    const opened = await vscode.env.openExternal(vscode.Uri.parse(url.toString(), true));
    if (!opened) options.log.warn('OAuth: the browser could not be opened.');
    // A way out when the browser did not open, or opened the wrong address (remote and browser-based editors
    // may rewrite loopback addresses): copy the link and open it by hand.
    const copy = vscode.l10n.t('Copy Link');
    void vscode.window
      .showInformationMessage(
        opened
          ? vscode.l10n.t('Socrata: continue the sign-in to {0} in your browser. If the page did not open, copy the link.', domain.host)
          : vscode.l10n.t('Socrata: the browser could not be opened. Copy the sign-in link and open it in your browser.'),
        copy,
      )
      .then((choice) => {
        if (choice === copy && !finished) void vscode.env.clipboard.writeText(url.toString());
      });
    const code = await awaitAuthorizationCode({
      state,
      timeoutMs: options.timeoutMs ?? 5 * 60_000,
      signal: abort.signal,
      onCallback: (listener) => options.handler.onDidReceiveOAuthCallback((uri) => listener(uri.query)),
      onRejected: (reason) => options.log.warn(`OAuth: rejected an answer: ${reason}.`),
      ...(options.offerPaste === false
        ? {}
        : {
            askForPastedCode: async (signal: AbortSignal) => {
              const cts = new vscode.CancellationTokenSource();
              const onAbort = () => cts.cancel();
              signal.addEventListener('abort', onAbort);
              try {
                return await vscode.window.showInputBox(
                  {
                    title: vscode.l10n.t('Sign in to {0} with OAuth', domain.host),
                    prompt: vscode.l10n.t(
                      'Waiting for the browser… If it cannot return to the editor, paste the authorization code (or the whole address the callback page shows) here.',
                    ),
                    placeHolder: vscode.l10n.t('authorization code or callback address'),
                    ignoreFocusOut: true,
                    password: true,
                  },
                  cts.token,
                );
              } finally {
                signal.removeEventListener('abort', onAbort);
                cts.dispose();
              }
            },
          }),
    });
    options.log.info(`OAuth: received an authorization code from ${domain.host}; exchanging it.`);
    return await exchangeCode(domain, { ...options.client, code }, { signal: abort.signal, userAgent: `socrata-publisher (${vscode.env.appName})` });
  } finally {
    finished = true;
    cancel.dispose();
  }
}
