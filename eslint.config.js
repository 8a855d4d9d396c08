// Layering (VS Code style): code under any `common/` folder is pure — no Node built-ins, no native
// modules, no `node/` siblings — so it runs alone in tests and in the renderer. `src/` never imports
// electron or the DOM; `renderer/` imports nothing from `src/` at run time (types only).
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const nativeModules = ['better-sqlite3', 'onnxruntime-node', 'electron'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'renderer/dist/**', 'dist/**', 'out/**', '**/*.d.ts', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/common/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, ...nativeModules].map((name) => ({ name, message: 'common/ code is pure: no Node built-ins or native modules (put it in a node/ file).' })),
        patterns: [
          { group: ['**/node/**', '**/node'], message: 'common/ code must not import node/ code.' },
          { group: ['**/renderer/**', '**/electron/**'], message: 'src/ is the core: hosts (renderer/, electron/) build on it, never the reverse.' },
        ],
      }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/common/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'src/ is host-independent: never import electron.' }],
        patterns: [{ group: ['**/renderer/**', '**/electron/**'], message: 'src/ is the core: hosts (renderer/, electron/) build on it, never the reverse.' }],
      }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/**'], allowTypeImports: true, message: 'renderer/ talks to the core only through the typed client (type imports only).' }] }],
    },
  },
);
