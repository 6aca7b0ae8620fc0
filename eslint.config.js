// ESLint (flat config): the recommended sets for JS, TypeScript and Vue, plus the project's one structural
// rule — the rooms import downward only (scripts/eslint-rooms.js). Formatting is prettier's job, not lint's.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import pluginVue from 'eslint-plugin-vue';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import rooms from './scripts/eslint-rooms.js';

export default defineConfig([
  globalIgnores(['dist/**', 'node_modules/**', 'test-results/**', '.tmp/**', 'workers/engine/vendor/**']),
  js.configs.recommended,
  tseslint.configs.recommended,
  pluginVue.configs['flat/essential'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    files: ['**/*.{ts,vue,js,mjs}'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    plugins: { rooms },
    rules: {
      'rooms/downward-only': 'error',
      // `cond ? a() : b()` and `ok && f()` as statements are house style; a bare `x;` is still an error.
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
      // `_`-prefixed names are deliberately unused (signatures kept for an interface, destructuring to omit).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
]);
