/**
 * The dependency rule (see CONVENTIONS.md): domain code imports only shared/domain; handlers never import
 * adapters or HTTP; controllers never import domain internals or adapters; only the composition root
 * (app.module, *.module.ts) binds adapters.
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment:
        'Domain code imports only shared/domain and its own folder: no framework, driver or node:* import.',
      severity: 'error',
      from: { path: '^src/[^/]+/domain/' },
      to: { pathNot: ['^src/shared/domain/', '^src/[^/]+/domain/'] },
    },
    {
      name: 'domain-no-other-context',
      comment: 'A bounded context’s domain does not reach into another context’s domain.',
      severity: 'error',
      from: { path: '^src/(carts|orders)/domain/' },
      to: { path: '^src/(carts|orders)/domain/', pathNot: '^src/$1/domain/' },
    },
    {
      name: 'application-no-adapters-or-http',
      comment: 'Handlers import their domain, shared/application and ports — never adapters or http/.',
      severity: 'error',
      from: { path: '^src/[^/]+/application/' },
      to: {
        path: [
          '^src/event-store/(embedded|esdb)/',
          '^src/read-side/(embedded|mongo)/',
          '/http/',
          '^src/shared/http/',
          '@nestjs/platform-',
        ],
      },
    },
    {
      name: 'http-no-domain-or-adapters',
      comment:
        'Controllers import commands, queries and buses — never domain internals or adapters (a context’s command and event types are its public language).',
      severity: 'error',
      from: { path: '^src/[^/]+/http/' },
      to: {
        path: [
          '^src/[^/]+/domain/(?!.*\\.(events|commands)\\.ts$)',
          '^src/event-store/(embedded|esdb)/',
          '^src/read-side/(embedded|mongo)/',
        ],
        pathNot: '^src/shared/domain/',
      },
    },
    {
      name: 'adapters-only-in-composition-root',
      comment: 'Only modules (the composition root) may import adapters.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: ['\\.module\\.ts$', '^src/event-store/(embedded|esdb)/', '^src/read-side/(embedded|mongo)/'],
      },
      to: { path: ['^src/event-store/(embedded|esdb)/', '^src/read-side/(embedded|mongo)/'] },
    },
    {
      name: 'projections-are-pure',
      comment: 'Projections are pure functions over events: no store, driver or framework import.',
      severity: 'error',
      from: { path: '^src/read-side/projections/' },
      to: {
        path: [
          '^src/read-side/(embedded|mongo)/',
          '^src/read-side/runtime/(?!projection\\.ts$)',
          '@nestjs/',
          'mongodb',
          'better-sqlite3',
        ],
      },
    },
    {
      name: 'projections-no-io',
      comment: 'Projections never touch Node built-ins (no clock, no randomness, no I/O).',
      severity: 'error',
      from: { path: '^src/read-side/projections/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
