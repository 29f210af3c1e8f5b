// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const inkOnlyInViews = {
  paths: [
    { name: 'ink', message: 'Ink belongs to src/screens and bin only: the engine is UI-agnostic.' },
    { name: 'react', message: 'React belongs to src/screens and bin only.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.lab/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: [
      'src/core/**',
      'src/steps/**',
      'src/remote/**',
      'src/pki/**',
      'src/pgconf/**',
      'src/verify/**',
      'src/topologies/**',
    ],
    rules: { 'no-restricted-imports': ['error', inkOnlyInViews] },
  },
  {
    files: ['src/**'],
    ignores: ['src/remote/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...inkOnlyInViews,
          paths: [...inkOnlyInViews.paths, { name: 'ssh2', message: 'ssh2 is used only inside src/remote.' }],
        },
      ],
    },
  },
  {
    files: ['src/screens/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'ssh2', message: 'ssh2 is used only inside src/remote.' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
