// The operator's side of offline signing against a remote hub: read its current metadata (checked
// against the offline keys themselves: the root must name them and sign itself, the targets must be
// signed under that root, so a hub cannot steer what gets signed), and upload a signed update with
// the admin token.
import { Metadata, MetadataKind, type Root, type Targets } from '@tufjs/models';
import { OutpostError } from '../../common/errors.ts';
import { connectionFailure, requireSafeTransport } from '../../registry/node/hub-tls.ts';
import { delegationsOf, type RepoState, type SignedUpdate } from './signing.ts';
import type { AppliedUpdate } from './repository.ts';

async function get(hubUrl: string, p: string): Promise<Response> {
  try {
    return await fetch(new URL(p, hubUrl));
  } catch (e) {
    throw new OutpostError('input', connectionFailure(hubUrl, e).message);
  }
}

async function getJson(hubUrl: string, p: string): Promise<unknown> {
  const res = await get(hubUrl, p);
  if (!res.ok) throw new OutpostError(res.status === 404 ? 'not-found' : 'input', `the hub at ${hubUrl} answered ${res.status} for ${p}`);
  return res.json();
}

export async function remoteRepoState(hubUrl: string): Promise<RepoState> {
  let root: Metadata<Root>;
  let targets: Metadata<Targets>;
  try {
    root = Metadata.fromJSON(MetadataKind.Root, await getJson(hubUrl, '/metadata/root.json') as never);
    root.verifyDelegate('root', root);
    targets = Metadata.fromJSON(MetadataKind.Targets, await getJson(hubUrl, '/metadata/targets.json') as never);
    root.verifyDelegate('targets', targets);
  } catch (e) {
    if (e instanceof OutpostError) throw e;
    throw new OutpostError('package', `the hub's current metadata does not verify: ${(e as Error).message}`);
  }
  const roles = new Map<string, Metadata<Targets>>();
  for (const d of delegationsOf(targets.signed)) {
    const res = await get(hubUrl, `/metadata/${encodeURIComponent(d.name)}.json`);
    if (res.status === 404) continue;
    if (!res.ok) throw new OutpostError('input', `the hub answered ${res.status} for ${d.name}.json`);
    roles.set(d.name, Metadata.fromJSON(MetadataKind.Targets, await res.json() as never));
  }
  return { root, targets, roleMetadata: (n) => roles.get(n) };
}

export async function uploadSignedUpdate(hubUrl: string, adminToken: string, update: SignedUpdate, opts: { allowHttp?: boolean } = {}): Promise<AppliedUpdate> {
  requireSafeTransport(hubUrl, 'admin token', opts.allowHttp ?? false);
  let res: Response;
  try {
    res = await fetch(new URL('/api/v1/admin/metadata', hubUrl), {
      method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(update),
    });
  } catch (e) {
    throw new OutpostError('input', connectionFailure(hubUrl, e).message);
  }
  const json = await res.json().catch(() => ({})) as AppliedUpdate & { error?: { code?: string; message?: string } };
  if (res.status === 401) throw new OutpostError('usage', `the hub refused the admin token (${json.error?.message ?? 401}); give the one in <hub>/admin.token`);
  if (!res.ok) throw new OutpostError(res.status === 409 ? 'conflict' : 'package', `the hub refused the update (${res.status}): ${json.error?.message ?? JSON.stringify(json)}`);
  return json;
}
