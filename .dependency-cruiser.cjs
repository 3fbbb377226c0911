/**
 * The dependency rule (see CONVENTIONS.md): domain code imports only shared/domain; handlers never import
 * adapters or HTTP; controllers never import domain internals or adapters; only the composition root
 * (app.module, *.module.ts) binds adapters.
 */
/**
 * Top-level folders of src/, highest first. A folder imports only folders of lower layers: never one above,
 * never a neighbour in its own layer — so no two folders ever import each other, the read-side runtime and the
 * event store know no context, and carts and orders stay apart (checkout stands between them). The catalog
 * stands below them: carts take names and prices from it (ProductOffers); it imports no context.
 */
const LAYERS = [
  ['operations', 'audit'],
  ['checkout', 'payments'],
  ['carts', 'orders'],
  ['catalog'],
  ['read-side', 'write-path', 'auth'],
  ['event-store'],
  ['shared', 'config'],
];

const layerRules = LAYERS.map((layer, index) => {
  const above = LAYERS.slice(0, index + 1).flat();
  return {
    name: `layers-${layer.join('-')}`,
    comment: `${layer.join(', ')} may import only lower layers, not ${above.join(', ')} (each other included).`,
    severity: 'error',
    from: { path: `^src/(${layer.join('|')})/` },
    to: { path: `^src/(${above.join('|')})/`, pathNot: '^src/$1/' },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'read-side-knows-no-context',
      comment: 'The read-side runtime imports no context: the app module hands it the projections.',
      severity: 'error',
      from: { path: '^src/read-side/' },
      to: { path: '^src/(carts|orders|catalog|checkout|payments|audit|operations)/' },
    },
    {
      name: 'event-store-is-ports-and-adapters',
      comment:
        'event-store/ is the ports and their adapters: it imports neither the write path nor a context.',
      severity: 'error',
      from: { path: '^src/event-store/' },
      to: { path: '^src/(write-path|read-side|carts|orders|catalog|checkout|payments|audit|operations)/' },
    },
    {
      name: 'carts-and-orders-apart',
      comment: 'Carts and orders do not import each other: the checkout process manager stands between them.',
      severity: 'error',
      from: { path: '^src/(carts|orders)/' },
      to: { path: '^src/(carts|orders)/', pathNot: '^src/$1/' },
    },
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
      from: { path: '^src/(carts|orders|catalog)/domain/' },
      to: { path: '^src/(carts|orders|catalog)/domain/', pathNot: '^src/$1/domain/' },
    },
    {
      name: 'application-no-adapters-or-http',
      comment: 'Handlers import their domain, shared/application and ports — never adapters or http/.',
      severity: 'error',
      from: {
        path: '^src/([^/]+/(application|commands|read-model)/|write-path/|(checkout|payments)/[^/]+\\.ts$)',
        pathNot: '\\.module\\.ts$',
      },
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
      from: { path: '^src/[^/]+/read-model/[^/]+\\.projection\\.ts$' },
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
      from: { path: '^src/[^/]+/read-model/[^/]+\\.projection\\.ts$' },
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
