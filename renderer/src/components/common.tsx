import type { ReactNode } from 'react';
import type { ApiError } from '../client/error.ts';

export function ErrorBox({ error, title }: { error: ApiError | undefined; title?: string }) {
  if (!error) return null;
  const where = [error.file, error.row !== undefined ? `row ${error.row}` : undefined, error.field !== undefined ? `column "${error.field}"` : undefined].filter(Boolean).join(', ');
  return (
    <div className="alert alert-error" role="alert">
      <strong>{title ?? 'Something went wrong'}</strong>
      <p>{error.message}</p>
      {where && <p className="muted mono">{where}</p>}
    </div>
  );
}

export function Stat({ label, value, hint, testId }: { label: string; value: ReactNode; hint?: ReactNode; testId?: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>{value}</div>
      {hint !== undefined && <div className="stat-hint" title={typeof hint === 'string' ? hint : undefined}>{hint}</div>}
    </div>
  );
}

export function StatusBadge({ status, live, resumable }: { status: string; live?: boolean; resumable?: boolean }) {
  const label = status === 'running' && !live ? 'interrupted' : status;
  return <span className={`badge badge-${label}`} title={resumable ? 'can be resumed' : undefined}>{label}</span>;
}

export function Section({ title, children, actions, id }: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  return (
    <section className="card" aria-labelledby={id}>
      <header className="card-head">
        <h2 id={id}>{title}</h2>
        {actions && <div className="card-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

/**
 * A job's input fingerprint ("size+head+tail:<sha-256>"): not a hash of the whole file but of its
 * size, first MiB and last MiB — what a resume checks. Shows the digest and says what it covers.
 */
export function Fingerprint({ value, short }: { value: string; short?: boolean }) {
  const i = value.indexOf(':');
  const digest = i >= 0 ? value.slice(i + 1) : value;
  const scheme = i >= 0 ? value.slice(0, i) : '';
  const what = scheme === 'size+head+tail' ? 'SHA-256 of the file size, its first MiB and its last MiB (checked before a resume)' : scheme ? `${scheme} digest` : 'digest';
  return short
    ? <span className="mono" title={`${what}: ${digest}`} data-testid="fingerprint">{digest.slice(0, 12)}</span>
    : <span data-testid="fingerprint"><span className="mono">{digest}</span> <span className="muted small">— {what}</span></span>;
}
