#!/usr/bin/env node
// Runs electronegativity over the Electron main/preload sources and the built renderer, and fails
// on any finding that is not in security/electronegativity-baseline.json (reviewed, with a reason).
// electronegativity exits 0 whatever it finds, so the counting is ours.
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const runner = join(__dirname, 'electronegativity-runner.cjs');
const baseline = JSON.parse(readFileSync(join(root, 'security/electronegativity-baseline.json'), 'utf8'));
const inputs = ['src-main', 'out/renderer'];
// This check downloads Electron's release list from the internet; CI and tests stay offline.
const OFFLINE_EXCLUDED = 'AvailableSecurityFixesGlobalCheck';

/** Findings from a SARIF report: a JSON document, written whole (CSV output was seen interleaved). */
function parseSarif(text) {
  return JSON.parse(text).runs.flatMap((run) =>
    run.results.map((result) => {
      const location = result.locations?.[0]?.physicalLocation;
      const uri = location?.artifactLocation?.uri ?? 'file:///';
      return {
        issue: result.ruleId,
        severity: result.level,
        file: uri === 'file:///' ? 'N/A' : uri.replace(/^file:\/\//, ''),
        location: `${location?.region?.startLine ?? 0}:${location?.region?.startColumn ?? 0}`,
      };
    }),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'electronegativity-'));
const findings = [];
try {
  for (const input of inputs) {
    const out = join(dir, `${input.replace(/\W/g, '_')}.sarif`);
    const run = spawnSync(
      process.execPath,
      ['-r', join(__dirname, 'offline-got.cjs'), runner, join(root, input), out, OFFLINE_EXCLUDED],
      { encoding: 'utf8' },
    );
    if (run.status !== 0) {
      console.error(`electronegativity failed on ${input}:\n${run.stderr}`);
      process.exit(1);
    }
    for (const row of parseSarif(readFileSync(out, 'utf8'))) findings.push({ input, ...row });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const known = (f) => baseline.some((b) => b.input === f.input && b.issue === f.issue && b.file === f.file);
const fresh = findings.filter((f) => !known(f));
const stale = baseline.filter(
  (b) => !findings.some((f) => f.input === b.input && f.issue === b.issue && f.file === b.file),
);
console.log(
  `electronegativity: ${findings.length} findings, ${findings.length - fresh.length} reviewed in the baseline, ${fresh.length} new`,
);
for (const f of fresh) console.log(`  NEW ${f.severity} ${f.issue} in ${f.input}/${f.file} at ${f.location}`);
for (const b of stale) console.log(`  (baseline entry no longer found: ${b.issue} in ${b.input}/${b.file}; remove it)`);
process.exit(fresh.length === 0 ? 0 : 1);
