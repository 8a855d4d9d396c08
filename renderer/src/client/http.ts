// The serve-mode client: calls as POST /api/call/<method> (the access token travels in the
// HttpOnly cookie set when the page was opened with ?token=), events over one shared EventSource.
import type { OutpostClient } from '../../../src/api/common/client.ts';
import type { ApiEvent, UploadResult } from '../../../src/api/common/contract.ts';
import { ApiError } from './error.ts';
import { HTTP_PATHS } from './paths.ts';

export function httpClient(): OutpostClient {
  const listeners = new Set<(e: ApiEvent) => void>();
  let source: EventSource | undefined;

  const connect = () => {
    source = new EventSource(HTTP_PATHS.events);
    source.onmessage = (m) => {
      const e = JSON.parse(m.data as string) as ApiEvent;
      for (const l of listeners) l(e);
    };
  };

  return {
    host: 'browser',
    async call(method, params) {
      let res: Response;
      try {
        res = await fetch(HTTP_PATHS.call + encodeURIComponent(method), {
          method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(params ?? {}),
        });
      } catch (e) {
        throw new ApiError({ code: 'internal', message: `cannot reach the Outpost server (${(e as Error).message}); is \`outpost serve\` still running?` });
      }
      const body = (await res.json().catch(() => null)) as { ok: boolean; result?: unknown; error?: ApiError } | null;
      if (body?.ok) return body.result as never;
      throw new ApiError(body?.error ?? { code: 'internal', message: `the server answered ${res.status}` });
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!source) connect();
      return () => {
        listeners.delete(listener);
        if (!listeners.size) { source?.close(); source = undefined; }
      };
    },
    provideFile(file, onProgress) {
      // XHR rather than fetch: it reports upload progress.
      return new Promise<UploadResult>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('PUT', `${HTTP_PATHS.uploads}?name=${encodeURIComponent(file.name)}`);
        xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress?.(e.loaded / e.total); };
        xhr.onerror = () => reject(new ApiError({ code: 'internal', message: `uploading ${file.name} failed (connection lost)` }));
        xhr.onload = () => {
          const body = JSON.parse(xhr.responseText || 'null') as { ok: boolean; result?: UploadResult; error?: ApiError } | null;
          if (body?.ok && body.result) resolve(body.result);
          else reject(new ApiError(body?.error ?? { code: 'internal', message: `uploading ${file.name} failed (${xhr.status})` }));
        };
        xhr.send(file);
      });
    },
    async openOutput(jobId, which) {
      const a = document.createElement('a');
      a.href = `${HTTP_PATHS.files}${encodeURIComponent(jobId)}/${which}`;
      a.download = '';
      document.body.append(a);
      a.click();
      a.remove();
    },
  };
}
