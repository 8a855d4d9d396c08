// What a hub's refusal means for the workstation, in words an operator can act on.
import { OutpostError } from '../../common/errors.ts';
import { connectionFailure } from '../../registry/node/hub-tls.ts';

export class SyncError extends OutpostError {
  readonly status: number;
  readonly reason: string;
  /** worth trying again (hub down, 5xx, connection cut) — not a refusal */
  readonly retryable: boolean;
  constructor(status: number, reason: string, message: string, retryable: boolean) {
    super('input', message, {}, { status, reason });
    this.status = status;
    this.reason = reason;
    this.retryable = retryable;
  }
}

const EXPLAIN: Record<string, string> = {
  revoked: 'the hub operator revoked this workstation: it can no longer sync. To bring it back, they enroll it again under a new name (`outpost hub devices add --name <new name>`) and you run `outpost connect --replace --code <the new code>` here',
  stale: 'the hub refused the request time: check this workstation\'s clock (it must be within 5 minutes of the hub\'s)',
  'unknown-device': 'the hub does not know this workstation (was the hub reset?); reconnect with a new enrollment code',
  'bad-signature': 'the hub could not verify this workstation\'s signature (a different device key?); reconnect with a new enrollment code',
  quota: 'the hub\'s upload quota for this workstation is used up for today; items stay queued and go tomorrow',
};

/** Turn a non-2xx hub response into a SyncError with the hub's own message and what to do. */
export async function hubFailure(res: Response, doing: string): Promise<SyncError> {
  let code = `http-${res.status}`;
  let message = '';
  try {
    const body = await res.json() as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? '';
  } catch { /* not JSON */ }
  const retryable = res.status >= 500 || res.status === 408;
  const advice = EXPLAIN[code];
  const text = `${doing} refused by the hub (HTTP ${res.status}${message ? `: ${message}` : ''})${advice ? ` — ${advice}` : ''}`;
  return new SyncError(res.status, code, retryable ? `${doing}: the hub answered HTTP ${res.status}${message ? ` (${message})` : ''}` : text, retryable);
}

/** A network failure (refused, reset, timed out) as a retryable SyncError. */
export function networkFailure(base: string, e: unknown): SyncError {
  const f = connectionFailure(base, e);
  // a certificate the workstation does not trust will not fix itself by retrying
  return f.tls ? new SyncError(0, 'tls', f.message, false) : new SyncError(0, 'unreachable', f.message, true);
}
