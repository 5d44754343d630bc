// The Grafana dashboard in resources/ (issue 15, part 4): every query is PromQL Prometheus's own
// promtool accepts, and names only metrics and labels the exporter writes. (Grafana itself cannot
// be run here: the dashboard is checked against the exporter instead.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyCounters, renderMetrics, tableMetrics } from '../../src-main/export/metrics';
import { tcp } from '../helpers/sockets';

const dashboard = JSON.parse(
  readFileSync(join(__dirname, '../../resources/grafana/porthole-dashboard.json'), 'utf8'),
) as {
  panels: { title: string; targets: { expr: string }[] }[];
  templating: { list: { query: string }[] };
};
/** The panels' queries (PromQL), and with them the variables' (Grafana's label_values, not PromQL). */
const promql = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
const expressions = [
  ...promql,
  ...dashboard.templating.list.map((v) => v.query).filter((q) => q.startsWith('label_values')),
];

/** The exporter's series (name → label names), from its real output; Prometheus adds `instance` and `job`. */
function exported(): Map<string, Set<string>> {
  const text = renderMetrics(
    tableMetrics(
      {
        seq: 1,
        at: '',
        sockets: [tcp('127.0.0.1:3000', null, { inode: 1 })],
        processes: [],
        stats: { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 },
      },
      emptyCounters(),
    ),
    { version: '0', maxProcessSeries: 10, openMetrics: false },
  );
  const series = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? /.exec(line);
    if (!m) continue;
    const names = new Set(['instance', 'job', ...[...(m[2] ?? '').matchAll(/(\w+)="/g)].map((l) => l[1])]);
    series.set(m[1], names);
  }
  return series;
}

describe('Grafana dashboard', () => {
  it('has queries promtool accepts as PromQL', () => {
    expect(promql.length).toBeGreaterThan(5);
    const dir = mkdtempSync(join(tmpdir(), 'porthole-dashboard-'));
    try {
      const rules = {
        groups: [
          {
            name: 'dashboard',
            // Grafana's variables stand for values: promtool sees a regular expression in their place.
            rules: promql.map((expr, i) => ({
              record: `porthole:panel_${i}`,
              expr: expr.replace(/\$instance/g, '.+'),
            })),
          },
        ],
      };
      const file = join(dir, 'rules.json');
      writeFileSync(file, JSON.stringify(rules));
      const out = execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(out).toContain(`SUCCESS: ${promql.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names only metrics and labels the exporter writes', () => {
    const series = exported();
    for (const expr of expressions) {
      for (const [, name, selector] of expr.matchAll(/\b(porthole_[a-z_]+)(?:\{([^}]*)\})?/g)) {
        expect(series.has(name), `${name} in ${expr}`).toBe(true);
        for (const [, label] of (selector ?? '').matchAll(/(\w+)\s*=~?/g))
          expect(series.get(name)!.has(label), `${label} of ${name}`).toBe(true);
      }
      for (const [, group] of expr.matchAll(/by \(([^)]*)\)/g))
        for (const label of group.split(',').map((l) => l.trim()))
          expect(
            [...series.values()].some((labels) => labels.has(label)) || label === 'le',
            `by ${label} in ${expr}`,
          ).toBe(true);
    }
  });
});
