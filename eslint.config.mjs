// `npm run lint`: typescript-eslint's type-checked rules on src/, eslint's recommended rules on the
// JavaScript of the tests, bench, examples and scripts.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// A leading underscore marks a name kept on purpose (a parameter a signature needs, a key left out).
const unused = { argsIgnorePattern: '^_', varsIgnorePattern: '^_' };

export default defineConfig(
  globalIgnores(['dist/']),
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['src/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-unused-vars': ['error', unused] },
  },
  {
    files: ['**/*.{mjs,cjs,js}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
    rules: { 'no-unused-vars': ['error', unused] },
  },
);
