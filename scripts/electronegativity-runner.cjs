// Runs electronegativity's scanner on one input, writing a SARIF report: its runner called
// directly, with the options its command line would give it. (Its command line reads a top-level
// `commander` it does not declare, which is Porthole's own, a newer major.)
// Usage: node -r ./offline-got.cjs electronegativity-runner.cjs INPUT OUTPUT.sarif EXCLUDED_CHECK
const { join, resolve } = require('node:path');

const [input, output, excluded] = process.argv.slice(2);
const run = require(join(__dirname, '..', 'node_modules/@doyensec/electronegativity/dist/runner.js'));
run(
  {
    input: resolve(input),
    output,
    isSarif: true,
    customScan: [],
    excludeFromScan: excluded ? [excluded.toLowerCase()] : [],
    severitySet: undefined,
    confidenceSet: undefined,
    isRelative: true,
    isVerbose: false,
    electronUpgrade: undefined,
    electronVersionOverride: '45.4.1',
    parserPlugins: [],
  },
  false,
).catch((error) => {
  console.error(error.stack);
  process.exit(1);
});
