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
