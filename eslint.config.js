// A small rule set (issue 28): the recommended JavaScript and TypeScript rules, formatting left to Prettier.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'api/gen/**',
      'plugin/dist/**',
      'models/**',
      'training/**',
      'test-results/**',
      'bench-out/**',
      'out/**',
      '.gpu/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      // A leading underscore marks a binding kept on purpose (a skipped tuple slot, an omitted field).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests reach into untyped replies and private fields on purpose.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
