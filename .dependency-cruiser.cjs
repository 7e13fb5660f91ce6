// The layering of src/ (CONTRIBUTING.md): a module imports from its own layer or a lower one, never up,
// and no module reaches itself again through its imports. `npm run layers` checks it; CI runs it.
/** Layers from the bottom up; each entry is a list of path patterns under src/. */
const LAYERS = [
  { name: 'base', paths: ['src/version\\.ts$', 'src/workers/'] }, // generic: no format, no HTTP
  { name: 'readers', paths: ['src/readers/'] },
  { name: 'cf', paths: ['src/cf/'] },
  { name: 'core', paths: ['src/core/', 'src/config/'] },
  { name: 'catalog', paths: ['src/catalog/'] },
  { name: 'outputs', paths: ['src/encoders/', 'src/stac/', 'src/html/'] },
  { name: 'api', paths: ['src/api/'] },
  { name: 'app', paths: ['src/app\\.ts$', 'src/plugins/'] },
  {
    name: 'entry',
    paths: ['src/server\\.ts$', 'src/cli\\.ts$', 'src/[a-z-]+-cli\\.ts$', 'src/openapi-doc\\.ts$', 'src/demo/'],
  },
];

const pattern = (paths) => `^(?:${paths.join('|')})`;

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `${layer.name}-imports-up`,
  comment: `${layer.name} (${layer.paths.join(', ')}) may import only from its own layer or below`,
  severity: 'error',
  from: { path: pattern(layer.paths) },
  to: { path: pattern(LAYERS.slice(i + 1).flatMap((l) => l.paths)) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'a module must not reach itself through its imports (type-only imports included)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-in-a-layer',
      comment: 'every module under src/ belongs to a layer: add a new folder to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: pattern(LAYERS.flatMap((l) => l.paths)) },
      to: {},
    },
    {
      name: 'not-to-test-or-bench',
      comment: 'production code never imports tests, benchmarks or scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
