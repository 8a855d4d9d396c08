// The signing key types Outpost supports and their TUF names. Pure.

export const keyTypes = ['ed25519', 'ecdsa-p256'] as const;
export type KeyType = (typeof keyTypes)[number];

/** TUF `keytype` and `scheme` for each supported key type (TUF spec, section 4.2 / securesystemslib). */
export const tufKeyNames: Record<KeyType, { keyType: string; scheme: string }> = {
  ed25519: { keyType: 'ed25519', scheme: 'ed25519' },
  'ecdsa-p256': { keyType: 'ecdsa', scheme: 'ecdsa-sha2-nistp256' },
};

export const isKeyType = (v: string): v is KeyType => (keyTypes as readonly string[]).includes(v);
