/**
 * The bench's own machinery (bench/ is plain JavaScript, loaded by URL so the type checker
 * leaves it alone): the peak-RSS measurement, the kill-by-pid the resume stage relies on,
 * the ratios of the report and the profile summary.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

interface RunResult {
  code: number | null;
  signal: string | null;
  seconds: number;
  peakRssMB: number;
}
interface ToolsModule {
  run(cmd: string, args: string[], opts?: object): Promise<RunResult>;
  start(
    cmd: string,
    args: string[],
    opts?: object,
  ): { pid: Promise<number>; done: Promise<RunResult> };
}
interface Row {
  stage: string;
  case: string;
  set?: string;
  tool: string;
  files: number;
  bytes: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMB: number;
}
interface ResultsModule {
  Results: new () => {
    add(row: Row): void;
    ratioOf(row: Row): number | undefined;
    targetLines(): { label: string; observed: string; met: string }[];
  };
}
interface ProfileModule {
  topFunctions(file: string, count?: number): { name: string; selfMs: number; share: number }[];
}

const load = <T>(path: string): Promise<T> =>
  import(new URL(`../../bench/${path}`, import.meta.url).href) as Promise<T>;

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('bench tools', () => {
  it('reports a peak RSS at least as large as what the child allocated', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-tools-'));
    const { run } = await load<ToolsModule>('lib/tools.js');
    const script = 'const b = Buffer.alloc(200 * 1024 * 1024, 1); console.log(b[7]);';
    const result = await run(process.execPath, ['-e', script], { timeDir: dir });
    expect(result.code).toBe(0);
    expect(result.peakRssMB).toBeGreaterThanOrEqual(200);
    expect(result.peakRssMB).toBeLessThan(1000);
  });

  it('gives the pid of the measured program, so SIGKILL stops it and is reported', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-tools-'));
    const { start } = await load<ToolsModule>('lib/tools.js');
    const handle = start(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { timeDir: dir });
    process.kill(await handle.pid, 'SIGKILL');
    const result = await handle.done;
    expect(result.signal).toBe('SIGKILL');
    expect(result.code).toBeNull();
  });
});

describe('bench report', () => {
  const row = (tool: string, seconds: number): Row => ({
    stage: 'bundle',
    case: '10 blobs',
    tool,
    files: 10,
    bytes: 1e9,
    seconds,
    cpuSeconds: 1,
    peakRssMB: 100,
  });

  it('states airlock ÷ reference as a throughput ratio and marks a missed target', async () => {
    const { Results } = await load<ResultsModule>('lib/report.js');
    const results = new Results();
    results.add(row('airlock', 4));
    const tar = row('tar -cf', 2);
    results.add(tar);
    expect(results.ratioOf(tar)).toBeCloseTo(0.5);
    const bundle = results.targetLines().find((t) => t.label.startsWith('bundle'));
    expect(bundle?.met).toBe('no');
    expect(bundle?.observed).toContain('0.50');
  });
});

describe('top-profile', () => {
  it('charges each sample to its function and ranks functions by self time', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-profile-'));
    const file = join(dir, 'x.cpuprofile');
    const frame = (functionName: string) => ({
      functionName,
      url: 'file:///a/dist/x.js',
      lineNumber: 1,
    });
    await writeFile(
      file,
      JSON.stringify({
        nodes: [
          { id: 1, callFrame: frame('(root)') },
          { id: 2, callFrame: frame('hot') },
          { id: 3, callFrame: frame('cold') },
        ],
        samples: [2, 2, 3, 2],
        timeDeltas: [1000, 3000, 1000, 5000],
      }),
    );
    const { topFunctions } = await load<ProfileModule>('top-profile.js');
    const top = topFunctions(file, 2);
    expect(top.map((t) => t.name)).toEqual(['hot', 'cold']);
    expect(top[0]?.selfMs).toBe(9);
    expect(top[0]?.share).toBeCloseTo(0.9);
  });
});
