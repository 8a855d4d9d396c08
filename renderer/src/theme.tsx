// Light / dark: follows the system (prefers-color-scheme) unless the user picks one; remembered.
import { useEffect, useState } from 'react';

type Theme = 'system' | 'light' | 'dark';
const KEY = 'outpost.theme';

function apply(t: Theme) {
  if (t === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
}

export function initTheme(): void {
  apply((localStorage.getItem(KEY) as Theme | null) ?? 'system');
}

export function useTheme(): [Theme, (t: Theme) => void] {
  const [t, setT] = useState<Theme>(() => (localStorage.getItem(KEY) as Theme | null) ?? 'system');
  useEffect(() => {
    apply(t);
    localStorage.setItem(KEY, t);
  }, [t]);
  return [t, setT];
}

export function ThemeChoice() {
  const [t, setT] = useTheme();
  return (
    <fieldset className="theme-choice">
      <legend>Theme</legend>
      {(['system', 'light', 'dark'] as const).map((v) => (
        <label key={v} className="check"><input type="radio" name="theme" value={v} checked={t === v} onChange={() => setT(v)} /> {v === 'system' ? 'Follow the system' : v === 'light' ? 'Light' : 'Dark'}</label>
      ))}
    </fieldset>
  );
}

/** The header toggle: flips between light and dark (from whatever is showing now). */
export function ThemeToggle() {
  const [t, setT] = useTheme();
  const dark = t === 'dark' || (t === 'system' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  return <button type="button" className="btn btn-small theme-toggle" onClick={() => setT(dark ? 'light' : 'dark')} aria-label={`Switch to ${dark ? 'light' : 'dark'} theme`}>{dark ? '☀ Light' : '☾ Dark'}</button>;
}
