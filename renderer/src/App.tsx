import { lazy, Suspense, useEffect, useRef } from 'react';
import { href, useCall, useRoute } from './state.tsx';
import { Drift } from './screens/Drift.tsx';
import { Home } from './screens/Home.tsx';
import { Jobs } from './screens/Jobs.tsx';
import { Models } from './screens/Models.tsx';
import { Performance } from './screens/Performance.tsx';
import { Predictions } from './screens/Predictions.tsx';
import { Score } from './screens/Score.tsx';
import { Settings } from './screens/Settings.tsx';
import { Train } from './screens/Train.tsx';
import { ThemeToggle } from './theme.tsx';

// The what-if explorer (and onnxruntime-web behind it) loads only when opened.
const Explore = lazy(() => import('./explore/Explore.tsx').then((m) => ({ default: m.Explore })));

const NAV = [['home', 'Home'], ['score', 'Score a file'], ['jobs', 'Jobs'], ['predictions', 'Predictions'], ['drift', 'Drift'], ['performance', 'Performance'], ['train', 'Train'], ['models', 'Models'], ['settings', 'Settings']] as const;

export function App() {
  const [screen, arg, sub] = useRoute();
  const main = useRef<HTMLElement>(null);
  // Move focus to the new screen so keyboard and screen-reader users land on it (not on first load:
  // then the page starts at the top, with the skip link first).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    main.current?.focus({ preventScroll: true });
  }, [screen, arg, sub]);
  const auth = useCall('settings.get', {});
  const locked = auth.error?.code === 'unauthorized';
  return (
    <div className="app">
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>Skip to content</a>
      <header className="topbar">
        <span className="brand" aria-label="Outpost">◭ Outpost</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([id, label]) => <li key={id}><a href={href(id)} aria-current={screen === id ? 'page' : undefined}>{label}</a></li>)}
          </ul>
        </nav>
        <ThemeToggle />
      </header>
      {/* data-route: the route this render shows (a hash change is rendered a moment after the address changes) */}
      <main id="main" ref={main} tabIndex={-1} data-route={[screen, arg, sub].filter((x) => x !== undefined).join('/')}>
        {locked ? (
          <div className="screen" data-testid="locked">
            <h1>Access token needed</h1>
            <p>This Outpost server only answers people who have its access token. Open the full URL that <code>outpost serve</code> printed (it ends with <code>?token=…</code>).</p>
          </div>
        ) : screen === 'score' ? <Score key={arg ?? 'new'} {...(arg ? { jobId: arg } : {})} />
          : screen === 'jobs' ? <Jobs {...(arg ? { jobId: arg } : {})} />
          : screen === 'predictions' ? <Predictions key={arg ?? 'all'} {...(arg ? { jobId: arg } : {})} />
          : screen === 'drift' ? <Drift {...(arg ? { model: arg } : {})} />
          : screen === 'performance' ? <Performance {...(arg ? { model: arg } : {})} />
          : screen === 'models' && arg && sub === 'explore' ? <Suspense fallback={<p className="muted">Loading the explorer…</p>}><Explore key={arg} model={arg} /></Suspense>
          : screen === 'train' ? <Train key={arg ?? 'new'} {...(arg ? { runId: arg } : {})} />
          : screen === 'models' ? <Models {...(arg ? { name: arg } : {})} />
          : screen === 'settings' ? <Settings />
          : <Home />}
      </main>
    </div>
  );
}
