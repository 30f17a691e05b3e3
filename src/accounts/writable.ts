// Which signed-in account publishes to a dataset when the caller names only the portal (an argument object, a
// publish spec, "Publish Again"): with several accounts on one portal, the first by label may only read the
// dataset while another one owns it.
import type { SodaClient } from '../soda/client';
import { canWrite } from '../soda/view';
import type { ViewMetadata } from '../soda/types';
import type { Connection, SocrataAccounts } from './accounts';

export interface WritableConnection {
  readonly connection: Connection<SodaClient>;
  readonly view: ViewMetadata;
}

/**
 * The first signed-in account of `host` that may write to dataset `id` (or add rows, for an append), with the view
 * it read. Undefined when there is at most one account (the caller takes the usual one) or none may write (the
 * caller takes the usual one too, and the plan explains the missing rights).
 */
export async function findWritableConnection(
  accounts: Pick<SocrataAccounts<SodaClient>, 'getConnection' | 'list'>,
  host: string,
  id: string,
  options: { append?: boolean; log?: { info(message: string): void; debug(message: string): void } } = {},
): Promise<WritableConnection | undefined> {
  const candidates = (await accounts.list()).filter((a) => a.domain === host && a.invalid !== true);
  if (candidates.length < 2) return undefined;
  for (const account of candidates) {
    const connection = await accounts.getConnection(host, { silent: true, accountId: account.id });
    if (!connection) continue;
    try {
      const view = await connection.client.view(id);
      if (canWrite(view, options.append === true ? 'append' : 'write', account.userId)) {
        if (account !== candidates[0]) {
          options.log?.info(`Publishing to ${id} as ${account.email || account.userId}, the signed-in account of ${host} that may write to it.`);
        }
        return { connection, view };
      }
    } catch (e) {
      options.log?.debug(`${account.id} cannot read ${id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return undefined;
}
