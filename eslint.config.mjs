// Lint: TypeScript's recommended rules and eslint-plugin-vue's for the renderer's components, plus
// the layering of docs/architecture.md — only the desktop host imports electron, only collect/
// knows the OS, and the shared contract and the domain stay pure.
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';
import prettierConfig from 'eslint-config-prettier';

/** Per-OS code: reached only through collect/index.ts (createCollector and the capabilities). */
const perOsCollectors = [
  '**/collect/linux/**',
  '**/collect/windows/**',
  '**/collect/macos/**',
  '**/collect/containers/**',
  '**/collect/systeminformation',
];
const perOsMessage = 'The OS is behind collect/index.ts: ask it for a collector or a capability.';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'coverage/**', 'test-results/**'] },
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  // Prettier owns layout (npm run format:check): the layout rules of the configs above are off.
  prettierConfig,
  {
    files: ['src-renderer/**/*.vue'],
    languageOptions: {
      parser: vueParser,
      parserOptions: { parser: tseslint.parser, sourceType: 'module', extraFileExtensions: ['.vue'] },
    },
  },
  {
    files: ['bin/**/*.js', 'bench/**/*.js', 'tests/**/*.cjs', 'scripts/**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: { require: 'readonly', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/desktop/**', 'src-main/collect/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Only the desktop host (src-main/desktop/) imports electron.' }],
          patterns: [{ group: perOsCollectors, message: perOsMessage }],
        },
      ],
    },
  },
  {
    files: ['src-main/desktop/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: perOsCollectors, message: perOsMessage }] }],
    },
  },
  {
    // The platform is read once, in collect/index.ts; the desktop entry may too (its menus and
    // consent prompts are the OS's own).
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/collect/**', 'src-main/desktop/main.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'platform', message: 'Ask collect/ for a capability instead.' },
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
              group: [
                'node:*',
                'fs',
                'os',
                'path',
                'electron',
                '../collect/**',
                '../export/**',
                '../cli/**',
                '../web/**',
                '../poll/**',
                '../desktop/**',
                '../exporter/**',
                '../viewer/**',
                '../common/**',
                '../actions/**',
              ],
              message: 'shared/ and track/ are pure: no OS access, no host.',
            },
          ],
        },
      ],
    },
  },
);
