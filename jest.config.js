/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/services', '<rootDir>/operator', '<rootDir>/load-tests', '<rootDir>/scripts', '<rootDir>/console'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  // @kubernetes/client-node 1.x and its dependencies are ESM-only; jest must transform them.
  transformIgnorePatterns: [
    '/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose|node-fetch|data-uri-to-buffer|fetch-blob|formdata-polyfill|hpagent|isomorphic-ws|stream-buffers|jsonpath-plus|rfc4648)/)',
  ],
  testTimeout: 30000,
};
