// One linter for the whole tree. Imports follow design.md's arrows and never point
// upward: each folder below may only import what its line in style.md allows.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const forbid = (...folders) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: folders.map((f) => ({
        group: [`**/${f}`, `**/${f}/**`],
        message: `design.md: imports point one way; this folder may not import ${f}/`,
      })),
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'native/build/', 'node_modules/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['proto/**'], rules: forbid('src', 'native', 'test') },
  { files: ['src/ovsdb/**'], rules: forbid('src/openflow', 'src/ofproto', 'src/datapath', 'src/vswitchd', 'src/native', 'src/cli', 'src/api', 'proto/openflow', 'proto/datapath') },
  { files: ['src/openflow/**'], rules: forbid('src/ovsdb', 'src/ofproto', 'src/datapath', 'src/vswitchd', 'src/native', 'src/cli', 'src/api', 'proto/datapath') },
  { files: ['src/ofproto/**'], rules: forbid('src/ovsdb', 'src/openflow', 'src/datapath', 'src/vswitchd', 'src/native', 'src/cli', 'src/api') },
  { files: ['src/native/**'], rules: forbid('src/ovsdb', 'src/openflow', 'src/ofproto', 'src/datapath', 'src/vswitchd', 'src/cli', 'src/api') },
  { files: ['src/datapath/**'], rules: forbid('src/ovsdb', 'src/openflow', 'src/vswitchd', 'src/cli', 'src/api') },
  { files: ['src/vswitchd/**'], rules: forbid('src/cli', 'src/api') },
);
