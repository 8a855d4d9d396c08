// How a shared check names what the operator gave: `outpost hub …` by its options (--percent), the
// admin API by its request body fields (body/percent, as the hub's validator names them in "body/percent
// must be number"). The check is one; the caller says which names its messages use. Pure.

/** The name of input `key`; with `value`, the input set to that value (a CLI switch is named bare). */
export type NameOf = (key: string, value?: string) => string;

/** The admin API's names: a JSON body's fields. */
export const bodyField: NameOf = (key, value) => (value === undefined ? `body/${key}` : `body/${key}: ${value}`);

/** The CLI's names: its options, by key (a key not listed is `--key`). */
export const cliOptions = (options: Record<string, string>): NameOf => (key) => options[key] ?? `--${key}`;
