// The hub console's shell: sign-in with the admin token (traded for an HttpOnly session cookie),
// then the screens over the fleet. Hash routing, skip link, focus on screen change and the theme
// toggle are the workstation app's.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ApiError } from '../client/error.ts';
import { ErrorBox } from '../components/common.tsx';
import { href, useRoute } from '../state.tsx';
import { ThemeToggle } from '../theme.tsx';
import { hubDelete, hubPost, SIGNED_OUT, useGet } from './api.ts';
import { Device } from './screens/Device.tsx';
import { Events } from './screens/Events.tsx';
import { Fleet } from './screens/Fleet.tsx';
import { FleetDrift } from './screens/FleetDrift.tsx';
import { Models } from './screens/Models.tsx';
import { Rollouts } from './screens/Rollouts.tsx';

const NAV = [['fleet', 'Fleet'], ['models', 'Models'], ['drift', 'Fleet drift'], ['events', 'Events'], ['rollouts', 'Rollouts']] as const;

function SignIn({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    hubPost('/api/v1/session', { token }).then(() => { setToken(''); onDone(); }, (err: unknown) => setError(err as ApiError)).finally(() => setBusy(false));
  };
  return (
    <div className="screen" data-testid="sign-in">
      <h1>Sign in to the hub</h1>
      <p>The console is for this hub's administrators. Paste the admin token (the file <code>admin.token</code> in the hub folder, created by <code>outpost hub init</code>). It is exchanged for a session cookie that this browser cannot read from scripts; it expires after 12 hours.</p>
      <form className="inline-form" onSubmit={submit}>
        <label>Admin token{' '}
          <input type="password" autoComplete="current-password" data-testid="admin-token" value={token} onChange={(e) => setToken(e.target.value)} required size={48} />
        </label>
        <button type="submit" className="btn btn-primary" data-testid="sign-in-submit" disabled={busy || !token}>Sign in</button>
      </form>
      <ErrorBox error={error} title="Not signed in" />
    </div>
  );
}

export function HubApp() {
  const [screen, arg] = useRoute();
  const session = useGet<{ ok: true; expiresAt?: string }>('/api/v1/session');
  const [signedOut, setSignedOut] = useState(false);
  const [signOutError, setSignOutError] = useState<ApiError | undefined>();
  // signed out when the hub says so (or the session had already ended): after any other answer the
  // session and its cookie are still valid, and the page must not pretend otherwise
  const signOut = () => {
    hubDelete('/api/v1/session').then(() => setSignedOut(true), (err: unknown) => {
      if ((err as ApiError).code === 'unauthorized') setSignedOut(true);
      else setSignOutError(err as ApiError);
    });
  };
  useEffect(() => {
    const on = () => setSignedOut(true);
    window.addEventListener(SIGNED_OUT, on);
    return () => window.removeEventListener(SIGNED_OUT, on);
  }, []);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    main.current?.focus({ preventScroll: true });
  }, [screen, arg]);
  const needSignIn = signedOut || session.error?.code === 'unauthorized';
  const signedIn = !needSignIn && session.data !== undefined;
  const current = screen === 'home' ? 'fleet' : screen === 'device' ? 'fleet' : screen;
  return (
    <div className="app">
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>Skip to content</a>
      <header className="topbar">
        <span className="brand" aria-label="Outpost hub">◭ Outpost hub</span>
        <nav aria-label="Main">
          <ul>
            {signedIn && NAV.map(([id, label]) => <li key={id}><a href={href(id)} aria-current={current === id ? 'page' : undefined}>{label}</a></li>)}
          </ul>
        </nav>
        {signedIn && <button type="button" className="btn btn-small" data-testid="sign-out" onClick={signOut}>Sign out</button>}
        <ThemeToggle />
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {signedIn && <ErrorBox error={signOutError} title="Not signed out: this session is still active" />}
        {needSignIn ? <SignIn onDone={() => { setSignedOut(false); setSignOutError(undefined); session.reload(); }} />
          : !signedIn ? <div className="screen"><ErrorBox error={session.error} title="The hub did not answer" />{!session.error && <p className="muted">Loading…</p>}</div>
          : screen === 'device' && arg ? <Device key={arg} name={arg} />
          : screen === 'models' ? <Models />
          : screen === 'rollouts' ? <Rollouts />
          : screen === 'drift' ? <FleetDrift key={arg ?? 'default'} {...(arg ? { model: arg } : {})} />
          : screen === 'events' ? <Events key={arg ?? 'all'} {...(arg ? { device: arg } : {})} />
          : <Fleet />}
      </main>
    </div>
  );
}
