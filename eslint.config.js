// A small rule set: the recommended JavaScript and TypeScript rules (syntax-level, no type
// information, so it runs in seconds), plus the few habits this codebase keeps on purpose.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-output/**', 'ui/dist/**', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
    },
    rules: {
      // `_`-prefixed names are deliberately unused (callback positions, destructuring rests).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Untrusted JSON is typed `any` at the boundary and narrowed by isRecord; the checks say why.
      '@typescript-eslint/no-explicit-any': 'off',
      // Control characters in regexes are intended: log-injection and header sanitisers match them.
      'no-control-regex': 'off',
      // tsc already reports undefined names, with the right globals for each file.
      'no-undef': 'off',
    },
  },
);
