// `outpost keys generate`: a signing key pair for publishers and hub roles.
import { OutpostError, usageError } from '../../common/errors.ts';
import { isKeyType, keyTypes } from '../../keys/common/key-types.ts';
import { generateKeyFile, publicKeyFile } from '../../keys/node/keys.ts';
import { str, type CommandSpec } from '../command.ts';
import path from 'node:path';

/** Read a passphrase from the environment variable named by --passphrase-env (never from argv: it would show in `ps`). */
export function passphraseFromEnv(env: NodeJS.ProcessEnv, varName: string | undefined): string | undefined {
  if (varName === undefined) return undefined;
  const v = env[varName];
  if (v === undefined || v === '') throw new OutpostError('usage', `--passphrase-env ${varName}: that environment variable is not set or empty`);
  return v;
}

export const keysGenerateCommand: CommandSpec = {
  name: 'keys generate',
  summary: 'Create a signing key pair (private key owner-only, public key at <file>.pub)',
  usage: 'outpost keys generate --out <file> [--type ed25519|ecdsa-p256] [--passphrase-env VAR]',
  help: [
    '--out FILE            where to write the private key (the public key goes to FILE.pub)',
    `--type TYPE           ${keyTypes.join(' or ')} (default: ed25519)`,
    '--passphrase-env VAR  encrypt the private key with the passphrase in environment variable VAR',
  ],
  options: { out: { type: 'string' }, type: { type: 'string' }, 'passphrase-env': { type: 'string' } },
  async run(ctx, args) {
    const out = str(args, 'out');
    if (!out) throw usageError('--out <file> is required');
    const type = str(args, 'type') ?? 'ed25519';
    if (!isKeyType(type)) throw usageError(`--type must be one of ${keyTypes.join(', ')} (got "${type}")`);
    const passphrase = passphraseFromEnv(ctx.env, str(args, 'passphrase-env'));
    const file = path.resolve(ctx.cwd, out);
    const k = generateKeyFile(file, { type, passphrase });
    ctx.out.text(`private key: ${k.file} (owner-only${passphrase ? ', passphrase-protected' : ''}; keep it secret)`);
    ctx.out.text(`public key:  ${publicKeyFile(k.file)}`);
    ctx.out.text(`key id:      ${k.keyId}`);
    ctx.out.json({ ok: true, type, privateKey: k.file, publicKey: publicKeyFile(k.file), keyId: k.keyId, encrypted: Boolean(passphrase) });
    return 0;
  },
};
