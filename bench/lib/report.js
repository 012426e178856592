/**
 * Collects measurements and renders them: a markdown table (each airlock row beside its
 * references, with the ratio), the issue-7 targets with pass/fail, and the raw JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const MB = 1e6;

/** Issue 7, part 3: ratio = airlock throughput / reference throughput (higher is better). */
const TARGETS = [
  {
    label: 'download, many small files, vs aria2c',
    stage: 'download',
    set: 'small',
    tool: 'aria2c',
    min: 1.0,
  },
  {
    label: 'download, large files, vs aria2c',
    stage: 'download',
    set: 'large',
    tool: 'aria2c',
    min: 0.9,
  },
  { label: 'bundle vs tar -cf', stage: 'bundle', tool: 'tar -cf', min: 0.8 },
  { label: 'verify vs sha256sum', stage: 'verify', tool: 'sha256sum', min: 0.8 },
  {
    label: 'import into a directory vs cp + sha256sum',
    stage: 'import',
    tool: 'cp + sha256sum',
    min: 0.7,
  },
  { label: 'serve a file vs nginx', stage: 'serve', set: 'file', tool: 'nginx', min: 0.5 },
];
const RESUME_MAX = 0.02;
const RSS_MAX_MB = 250;

export class Results {
  rows = [];
  notes = [];
  resume = [];

  /**
   * row: { stage, case, set?, tool, files, bytes, seconds, cpuSeconds, peakRssMB,
   *        requestsPerSec? (serve) }. The first row of a (stage, case) group is airlock's.
   */
  add(row) {
    this.rows.push(row);
    const ratio = this.ratioOf(row);
    const extra = ratio === undefined ? '' : `  airlock ÷ ${row.tool} = ${ratio.toFixed(2)}`;
    console.log(`    ${row.tool.padEnd(16)} ${describe(row)}${extra}`);
  }

  /** A stage that could not run, and why (printed and kept for the report). */
  note(stage, text) {
    this.notes.push({ stage, text });
    console.log(`  ${stage}: ${text}`);
  }

  addResume(entry) {
    this.resume.push(entry);
  }

  ratioOf(row) {
    if (row.tool === 'airlock') return undefined;
    const mine = this.rows.find(
      (r) => r.tool === 'airlock' && r.stage === row.stage && r.case === row.case,
    );
    return mine ? rateOf(mine) / rateOf(row) : undefined;
  }

  async write(outDir, header) {
    await mkdir(outDir, { recursive: true });
    const markdown = this.markdown(header);
    const rows = this.rows.map((r) => ({ ...r, ratio: this.ratioOf(r) ?? null }));
    const json = { ...header, rows, resume: this.resume, notes: this.notes };
    await writeFile(join(outDir, 'results.json'), `${JSON.stringify(json, null, 2)}\n`);
    await writeFile(join(outDir, 'results.md'), markdown);
    return markdown;
  }

  markdown(header) {
    const lines = [`# airlock bench: ${header.size} (${header.date})`, ''];
    lines.push(`Machine: ${header.machine}`, '');
    lines.push(
      '| stage | case | tool | wall s | files/s (req/s) | MB/s | CPU s | peak RSS MB | airlock ÷ tool |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const r of this.rows) {
      const ratio = this.ratioOf(r);
      lines.push(
        `| ${r.stage} | ${r.case} | ${r.tool} | ${fixed(r.seconds, 2)} | ${fixed(perSecond(r), 0)} | ` +
          `${fixed(r.bytes / MB / r.seconds, 1)} | ${fixed(r.cpuSeconds, 1)} | ${fixed(r.peakRssMB, 0)} | ` +
          `${ratio === undefined ? '' : `**${ratio.toFixed(2)}**`} |`,
      );
    }
    if (this.resume.length > 0) {
      lines.push(
        '',
        '| resume case | payload MB | killed at | re-fetched MB | of which: not on disk at the kill | on disk, fetched again | re-fetched share |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      );
      for (const e of this.resume) {
        lines.push(
          `| ${e.case} | ${fixed(e.payload / MB, 1)} | ${(e.killedAt * 100).toFixed(0)} % | ` +
            `${fixed(e.refetched / MB, 2)} | ${fixed(e.lostInFlight / MB, 2)} | ${fixed(e.refetchedFromDisk / MB, 2)} | ` +
            `**${(e.share * 100).toFixed(2)} %** |`,
        );
      }
    }
    lines.push('', '## Against the targets of issue 7', '', '| target | observed | met |');
    lines.push('| --- | --- | --- |');
    for (const t of this.targetLines()) lines.push(`| ${t.label} | ${t.observed} | ${t.met} |`);
    if (this.notes.length > 0) {
      lines.push('', '## Not measured in this run', '');
      for (const n of this.notes) lines.push(`- ${n.stage}: ${n.text}`);
    }
    return `${lines.join('\n')}\n`;
  }

  targetLines() {
    const out = TARGETS.map((t) => {
      const ratios = this.rows
        .filter((r) => r.stage === t.stage && r.tool === t.tool && (!t.set || r.set === t.set))
        .map((r) => ({ r, ratio: this.ratioOf(r) }))
        .filter((x) => x.ratio !== undefined);
      if (ratios.length === 0)
        return { label: `${t.label} ≥ ${t.min}`, observed: 'not measured', met: '' };
      const worst = Math.min(...ratios.map((x) => x.ratio));
      const observed = ratios.map((x) => `${x.ratio.toFixed(2)} (${x.r.case})`).join('; ');
      return { label: `${t.label} ≥ ${t.min}`, observed, met: worst >= t.min ? 'yes' : 'no' };
    });
    const shares = this.resume.map((e) => e.share);
    out.push({
      label: `re-fetched after a kill ≤ ${RESUME_MAX * 100} %`,
      observed: shares.length
        ? shares.map((s) => `${(s * 100).toFixed(2)} %`).join('; ')
        : 'not measured',
      met: shares.length ? (Math.max(...shares) <= RESUME_MAX ? 'yes' : 'no') : '',
    });
    const mine = this.rows.filter((r) => r.tool === 'airlock');
    const peak = mine.reduce((m, r) => (r.peakRssMB > m.peakRssMB ? r : m), { peakRssMB: 0 });
    out.push({
      label: `airlock peak RSS ≤ ${RSS_MAX_MB} MB in every stage`,
      observed: mine.length
        ? `largest ${peak.peakRssMB.toFixed(0)} MB (${peak.stage}, ${peak.case})`
        : 'not measured',
      met: mine.length ? (peak.peakRssMB <= RSS_MAX_MB ? 'yes' : 'no') : '',
    });
    return out;
  }
}

/** Throughput used for ratios: requests/s for serve, else bytes/s (same bytes on both sides). */
function rateOf(row) {
  return row.requestsPerSec ?? row.bytes / row.seconds;
}

function perSecond(row) {
  return row.requestsPerSec ?? row.files / row.seconds;
}

function describe(row) {
  const rate = row.requestsPerSec
    ? `${row.requestsPerSec.toFixed(0)} req/s, ${(row.bytes / MB / row.seconds).toFixed(1)} MB/s`
    : `${(row.files / row.seconds).toFixed(0)} files/s, ${(row.bytes / MB / row.seconds).toFixed(1)} MB/s`;
  return `${row.seconds.toFixed(2)} s  ${rate}  CPU ${fixed(row.cpuSeconds, 1)} s  RSS ${fixed(row.peakRssMB, 0)} MB`;
}

function fixed(n, digits) {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}
