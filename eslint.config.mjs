// Lint: TypeScript's recommended rules, plus the layering rule of STYLE.md — only the Electron
// entry and preload may import electron, and the shared contract and the domain stay pure.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'coverage/**', 'test-results/**', 'src-renderer/**/*.vue'] },
  ...tseslint.configs.recommended,
  {
    files: ['bin/**/*.js', 'bench/**/*.js', 'tests/**/*.cjs', 'scripts/**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: { require: 'readonly', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/index.ts', 'src-main/preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only src-main/index.ts and preload.ts import electron.' }] },
      ],
    },
  },
  {
    files: ['src-main/shared/**/*.ts', 'src-main/track/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'os', 'path', 'electron', '../collect/**', '../serve/**', '../export/**'],
              message: 'shared/ and track/ are pure: no OS access.',
            },
          ],
        },
      ],
    },
  },
);
