// The hub console's entry (hub.html): the same React stack, styles, theme and components as the
// workstation app, over the hub's admin API instead of the workstation contract.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { initTheme } from '../theme.tsx';
import { HubApp } from './HubApp.tsx';
import '../styles.css';

initTheme();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <HubApp />
  </StrictMode>,
);
