/** One line of the benchmark table: a metric measured for Auditkit and for its baseline in the same run. */
export interface BenchRow {
  metric: string;
  auditkit: number;
  baseline: number;
  baselineName: string;
  /** What we aim for, in words. */
  target: string;
  /** Set when higher is worse (latency); the ratio is then baseline/auditkit. */
  lowerIsBetter?: boolean;
}

/** The median of some numbers (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

/** Prints rows as a Markdown table, the form the README carries. */
export function printTable(rows: BenchRow[]): void {
  const lines = [
    '| metric | Auditkit | baseline | ratio | target |',
    '|---|---:|---:|---:|---|',
    ...rows.map((r) => {
      const ratio = r.lowerIsBetter ? r.baseline / r.auditkit : r.auditkit / r.baseline;
      return `| ${r.metric} | ${fmt(r.auditkit)} | ${fmt(r.baseline)} (${r.baselineName}) | ${ratio.toFixed(2)}× | ${r.target} |`;
    }),
  ];
  console.log(lines.join('\n'));
}
