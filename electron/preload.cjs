// Preload (sandboxed: CommonJS, only the 'electron' module). Exposes exactly the PreloadBridge of
// src/api/common/client.ts as window.outpost; no ipcRenderer, no event objects leak to the page.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a sandboxed preload is CommonJS and may require only 'electron' */
const { contextBridge, ipcRenderer, webUtils } = require('electron');

const CALL = 'outpost:call';
const EVENT = 'outpost:event';
const REVEAL = 'outpost:reveal';

contextBridge.exposeInMainWorld('outpost', Object.freeze({
  call: (method, params) => ipcRenderer.invoke(CALL, String(method), params),
  onEvent: (listener) => {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    const wrapped = (_event, payload) => listener(payload);
    ipcRenderer.on(EVENT, wrapped);
    return () => ipcRenderer.removeListener(EVENT, wrapped);
  },
  pathForFile: (file) => webUtils.getPathForFile(file),
  reveal: (jobId, which) => ipcRenderer.invoke(REVEAL, { jobId: String(jobId), which: String(which) }),
}));
