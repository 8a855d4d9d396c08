// HubStorage on PostgreSQL: not built yet. The SQLite storage is the reference implementation of
// the contract in storage.ts.
import { OutpostError } from '../../common/errors.ts';
import type { HubStorage } from './storage.ts';

export function openPostgresStorage(url: string): HubStorage {
  throw new OutpostError('usage', `PostgreSQL hub storage is not available in this build (${new URL(url).protocol}//…); use the default SQLite database`);
}
