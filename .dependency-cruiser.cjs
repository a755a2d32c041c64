// The layering, checked by dependency-cruiser (npm run lint:layers). Each rule
// says why it exists; docs/architecture.md (Layering) draws the picture.
//
// Parsed with swc rather than the TypeScript compiler, whose JavaScript API
// TypeScript 7 no longer has. swc does not tell type-only imports apart, so
// every import counts here, erased or not (see workflows-are-deterministic).

/** The application: what runs in production. */
const APP = ['^(api|activities|domain|lib|services|workflows)/', '^worker\\.ts$'];
/** The checkout's vocabulary (domain/checkout-vocabulary.ts): pure, and loaded by every layer, the browser included. */
const DOMAIN = '^domain/';
/** What the Docker image runs besides the app: the migration and the seed (docker-compose.yml). */
const IMAGE_SCRIPTS = '^scripts/db/(migrate|seed)\\.ts$';
/** Tooling around the app: it may import the app, never the other way round. */
const TOOLING = '^(audit|bench|chaos|ops|scripts|test)/';
/** The web app's source: browser code, bundled by scripts/build-web.ts and served by the API as static files. */
const WEB = '^web/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-imports-nothing',
      comment:
        "The checkout's vocabulary is loaded by the workflow sandbox (which replays it), the browser (which bundles it) and the services (which know no Temporal). " +
        'Whatever it imported would have to be safe in all three, so it imports nothing at all: no package, no other module of the app, no tooling.',
      severity: 'error',
      from: { path: DOMAIN },
      to: { pathNot: DOMAIN },
    },
    {
      name: 'no-circular',
      comment: 'A cycle makes the modules in it one module that nobody can read, test or move alone, and its import order decides what is still undefined.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'workflows-are-deterministic',
      comment:
        "Workflow code is replayed in the sandbox: it may import only @temporalio/workflow, its own pure modules and the checkout's vocabulary (domain/, pure by domain-imports-nothing). " +
        '@temporalio/common is allowed: pure and deterministic (search attribute keys), and bundled with @temporalio/workflow anyway. ' +
        'activities/ is allowed for the types proxyActivities needs; .oxlintrc.json makes those imports type-only, so they are erased.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { pathNot: ['^workflows/', DOMAIN, '^node_modules/@temporalio/(workflow|common)/', '^activities/'] },
    },
    {
      name: 'lib-knows-no-app',
      comment:
        'lib/ is the shared infrastructure at the bottom: everything may use it, so it may use nothing of the app. ' +
        "Only the checkout's vocabulary (domain/) lies below it: it imports nothing, so using it cannot close a loop.",
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: ['^(api|activities|services|workflows)/', '^worker\\.ts$'] },
    },
    {
      name: 'services-know-no-temporal',
      comment: 'Services are plain libraries over their own tables; activities/ adapts them to Temporal, the API and the worker wire them.',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: ['^(api|activities|workflows)/', '^worker\\.ts$', '^node_modules/@temporalio/'] },
    },
    {
      name: 'activities-only-adapt',
      comment: 'Activities adapt services to Temporal; wiring them into a process is the job of worker.ts.',
      severity: 'error',
      from: { path: '^activities/' },
      to: { path: ['^api/', '^worker\\.ts$'] },
    },
    {
      name: 'api-and-worker-apart',
      comment: 'The API and the worker are separate processes that scale independently: neither loads the other.',
      severity: 'error',
      from: { path: '^api/' },
      to: { path: '^worker\\.ts$' },
    },
    {
      name: 'worker-and-api-apart',
      comment: 'The API and the worker are separate processes that scale independently: neither loads the other.',
      severity: 'error',
      from: { path: '^worker\\.ts$' },
      to: { path: '^api/' },
    },
    {
      name: 'web-is-browser-code',
      comment:
        'The web app runs in the browser and talks to the API over HTTP only: it may import Preact, the EventSource it uses and its own modules, ' +
        "plus the checkout's vocabulary (domain/) and the saga's pure types and constants (workflows/checkout-types.ts). Server code would not even bundle for a browser, and must not try.",
      severity: 'error',
      from: { path: WEB },
      to: { pathNot: [WEB, DOMAIN, '^node_modules/(preact|eventsource|eventsource-parser)/', '^workflows/checkout-types\\.ts$'] },
    },
    {
      name: 'nothing-imports-the-web-app',
      comment: 'The API serves what scripts/build-web.ts built from web/ as files; no server code or tool imports the browser code.',
      severity: 'error',
      from: { pathNot: WEB },
      to: { path: WEB },
    },
    {
      name: 'app-knows-no-tooling',
      comment: 'Tests, scripts, the auditor, ops, chaos and bench use the app; the app must run (and ship) without them.',
      severity: 'error',
      from: { path: APP },
      to: { path: TOOLING },
    },
    {
      name: 'image-needs-no-dev-dependencies',
      comment: 'The Docker image installs production dependencies only (npm ci --omit=dev): what it runs must not need a devDependency.',
      severity: 'error',
      from: { path: [...APP, IMAGE_SCRIPTS] },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-undeclared-packages',
      comment:
        'A package that is not in package.json works only while another one happens to bring it along. ' +
        'bench/ is a package of its own that uses the app, so it also uses the root package.json (knip checks its own).',
      severity: 'error',
      from: { pathNot: '^bench/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'An import that does not resolve fails at run time, or in a workflow bundle only when it is built. ' +
        "bench/'s own dependencies are installed on first use of npm run bench; its typecheck covers them.",
      severity: 'error',
      from: { pathNot: '^bench/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    parser: 'swc',
    // require.resolve() names modules too: the workflow bundle's entry points and interceptors.
    exoticRequireStrings: ['require.resolve'],
    doNotFollow: { path: ['^node_modules/', '^bench/node_modules/', '^generated/'] },
    // web/'s .tsx files: dependency-cruiser's swc parser reads TypeScript without JSX. They import the
    // saga's types through web/src/types.ts, which it does check; .oxlintrc.json keeps them to that.
    exclude: {
      path: [
        '^coverage/',
        '^\\.data/',
        '^test/histories/',
        '^builds/.*\\.js$',
        '^test/ops/fixtures/.*\\.js$',
        '^bench/results/',
        '^web/dist/',
        '^web/src/.*\\.tsx$',
      ],
    },
    // generated/ may be a symbolic link (a git worktree's): keep its name in the report.
    preserveSymlinks: true,
    // The packages' "exports" (@nats-io/*, tsx/cjs), as Node resolves them for require().
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default'] },
  },
};
