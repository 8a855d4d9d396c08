import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { makeClient } from './client/index.ts';
import { ClientProvider } from './state.tsx';
import { initTheme } from './theme.tsx';
import './styles.css';

initTheme();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ClientProvider client={makeClient()}>
      <App />
    </ClientProvider>
  </StrictMode>,
);
