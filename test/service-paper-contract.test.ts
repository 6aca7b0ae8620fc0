// The contract's paper-pack and remote-worker methods over BOTH adapters (HTTP+WS and the IPC seam), one real
// service each: example files, the report HTML of a finished sweep, a background approximation lab with its
// progress events, settings (the Redis password never comes back), remote.workers against a real redis-server
// (a live heartbeat; an unreachable port), and sweeps launched with "use remote workers" going to the remote
// executor — or refused, with nothing stored, when Redis is down.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../shared/api.js';
import { LocalPoolExecutor } from '../src-main/scheduler/local-pool.js';
import type { Executor } from '../src-main/scheduler/executor.js';
import { connectRemoteExecutor } from '../src-main/service/remote.js';
import { publishWorker } from '../workers/remote/registry.js';
import { httpHarness, ipcHarness, rejection, TINY_SWEEP, type Harness } from './service-harness.js';
import { tempDir } from './support/cli.js';
import { startRedisServer } from './support/redis.js';

const PASSWORD = 'paper-contract-pw';
const tmp = tempDir('deepbern-redis-');
let redis: ChildProcess | null = null;
let port = 0;

async function client(): Promise<Redis> {
  const c = new Redis({
    host: '127.0.0.1',
    port,
    password: PASSWORD,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

beforeAll(async () => {
  ({ proc: redis, port } = await startRedisServer(tmp.dir, PASSWORD, async (p) => {
    port = p;
    (await client()).disconnect();
  }));
});
afterAll(async () => {
  if (redis && redis.exitCode === null) {
    redis.kill('SIGTERM');
    await new Promise((r) => redis!.once('exit', r));
  }
  tmp.cleanup();
});

/** Stands in for the BullMQ executor (a live `deepbern worker` is test/remote-sweep's business): a counted local pool. */
const remoteCalls: string[] = [];
async function fakeRemote(url: string, b: Parameters<typeof connectRemoteExecutor>[1]): Promise<Executor> {
  if (url.includes('127.0.0.1:1/') || url.endsWith('127.0.0.1:1')) return connectRemoteExecutor(url, b); // the real one: refused
  remoteCalls.push(url);
  const pool = new LocalPoolExecutor({ workers: 1, backend: 'wasm' });
  return {
    get capacity() {
      return pool.capacity;
    },
    capacityReason: 'fake remote',
    execute: (job, hooks) => {
      remoteCalls.push(`run ${job.runId}`);
      return pool.execute(job, hooks);
    },
    close: () => pool.close(),
  };
}

describe.each([
  ['http', httpHarness],
  ['ipc', ipcHarness],
] as const)('paper + remote contract over %s', (_name, make) => {
  let h: Harness;
  beforeAll(async () => {
    remoteCalls.length = 0;
    h = await make({ remoteExecutor: fakeRemote });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('paper.examples: the examples/paper files, laptop-sized first, each a valid sweep', async () => {
    const ex = await h.call('paper.examples');
    expect(ex.map((e) => e.file)).toEqual([
      'higgs-laptop.yaml',
      'init-depth50-laptop.yaml',
      'mnist-laptop.yaml',
      'higgs-full.yaml',
      'mnist-full.yaml',
    ]);
    expect(ex[0]).toMatchObject({
      name: 'paper-higgs-laptop',
      description: expect.stringMatching(/^Paper figures 1–4 \(HIGGS/),
    });
    expect((await h.call('sweeps.plan', ex[0]!.text)).total).toBe(16);
    expect(ex[1]).toMatchObject({
      name: 'paper-init-depth50-laptop',
      description: expect.stringMatching(/^The initialisation figure/),
    });
    expect((await h.call('sweeps.plan', ex[1]!.text)).total).toBe(6);
  });

  it('settings: default off; the Redis password is stored (file mode 0600) but never returned; bad input refused', async () => {
    expect(await h.call('settings.get')).toEqual({ redisUrl: null, redisPasswordSet: false, useRemote: false });
    expect((await rejection(h.call('settings.set', { useRemote: true }))).body).toEqual({
      kind: 'bad-request',
      error: 'set a Redis URL before turning on remote workers',
    });
    const bad = await rejection(h.call('settings.set', { redisUrl: 'http://x' }));
    expect(bad.body).toMatchObject({
      kind: 'bad-request',
      error: expect.stringMatching(/^Redis URL: must start with redis:\/\/ or rediss:\/\//),
    });
    const url = `redis://:${PASSWORD}@127.0.0.1:${port}`;
    const view = await h.call('settings.set', { redisUrl: url });
    expect(view).toEqual({ redisUrl: `redis://:***@127.0.0.1:${port}`, redisPasswordSet: true, useRemote: false });
    const file = join(h.dir, 'settings.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ redisUrl: url, useRemote: false });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // the redacted form sent back (an unchanged form field) keeps the stored password
    await h.call('settings.set', { redisUrl: view.redisUrl });
    expect(JSON.parse(readFileSync(file, 'utf8')).redisUrl).toBe(url);
    expect((await rejection(h.call('settings.set', { redisUrl: `redis://:***@other:6379` }))).body.error).toMatch(
      /type the password again/,
    );
    expect(JSON.stringify(await h.call('settings.get'))).not.toContain(PASSWORD);
    expect((await rejection(h.raw('settings.set', [{ redisUrl: url, evil: 1 }]))).body.kind).toBe('bad-request');
  });

  it('remote.workers: a live heartbeat on the real Redis is listed; an unreachable port is a clear reason', async () => {
    const c = await client();
    const now = Date.now();
    await publishWorker(c, {
      id: `w-${_name}`,
      host: 'gpu-box',
      pid: 4242,
      backend: 'wasm',
      concurrency: 3,
      busy: 1,
      runs: ['r-x'],
      version: '0.1.0',
      startedAt: now - 1000,
      seenAt: now,
    });
    c.disconnect();
    const s = await h.call('remote.workers');
    expect(s).toMatchObject({ reachable: true, redisUrl: `redis://:***@127.0.0.1:${port}` });
    expect(s.workers.find((w) => w.id === `w-${_name}`)).toMatchObject({
      host: 'gpu-box',
      pid: 4242,
      backend: 'wasm',
      concurrency: 3,
      busy: 1,
      runs: ['r-x'],
    });
    expect(JSON.stringify(s)).not.toContain(PASSWORD);

    const good = (await h.call('settings.get')).redisUrl;
    await h.call('settings.set', { redisUrl: 'redis://:pw@127.0.0.1:1' });
    const down = await h.call('remote.workers');
    expect(down).toMatchObject({ reachable: false, workers: [], redisUrl: 'redis://:***@127.0.0.1:1' });
    expect(down.error).toMatch(/cannot reach Redis at .*127\.0\.0\.1:1.*connection refused/);

    // "use remote workers" with Redis down: the launch is refused and no sweep is stored
    await h.call('settings.set', { useRemote: true });
    const before = (await h.call('sweeps.list')).length;
    const e = await rejection(h.call('sweeps.launch', TINY_SWEEP));
    expect(e.body.kind).toBe('conflict');
    expect(e.body.error).toMatch(
      /remote workers are on \(Settings\) but cannot reach Redis .*connection refused.*turn remote workers off/,
    );
    expect((await h.call('sweeps.list')).length).toBe(before);
    await h.call('settings.set', { redisUrl: `redis://:${PASSWORD}@127.0.0.1:${port}`, useRemote: false });
    expect(good).toBe(`redis://:***@127.0.0.1:${port}`);
  });

  it('a sweep launched with "use remote workers" on runs on the remote executor; then its figures and report HTML', async () => {
    await h.call('settings.set', { useRemote: true });
    const sweep = await h.call('sweeps.launch', TINY_SWEEP);
    await h.waitForEvent(
      (e) => e.type === 'sweep-status' && e.sweepId === sweep.id && e.status === 'finished',
      110_000,
    );
    const { rows } = await h.call('runs.list', { sweepId: sweep.id });
    expect(remoteCalls[0]).toBe(`redis://:${PASSWORD}@127.0.0.1:${port}`);
    expect(
      remoteCalls
        .filter((c) => c.startsWith('run '))
        .map((c) => c.slice(4))
        .sort(),
    ).toEqual(rows.map((r) => r.id).sort());
    expect(rows.map((r) => r.status)).toEqual(['finished', 'finished']);
    await h.call('settings.set', { useRemote: false });

    const figs = await h.call('paper.figures', sweep.id);
    expect(figs.finalTable).toHaveLength(2);
    const html = await h.call('paper.reportHtml', sweep.id);
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<svg');
    expect(html).toContain('Gradient certificate');
    expect(html).toContain('Bern_{9,0.01}[-5,5]');
    expect((await rejection(h.call('paper.reportHtml', 's-nope'))).body.kind).toBe('not-found');
    // the dead-ratio reading: the paper's epoch average by default, the eval-batch one on request, nothing else
    expect(html).toMatch(/Dead ratio shown: <b>epoch average/);
    expect(await h.call('paper.reportHtml', sweep.id, 'eval')).toMatch(/Dead ratio shown: <b>fixed evaluation batch/);
    const bad = await rejection(h.call('paper.reportHtml', sweep.id, 'median' as never));
    expect(bad.body.kind).toBe('bad-request');
    expect(bad.body.error).toMatch(/epoch, eval/);
  });

  it('paper.approxRun: a tiny lab runs in the background with progress events; one at a time; bad targets refused', async () => {
    expect((await rejection(h.call('paper.approxRun', { targets: ['fn:nope'] }))).body).toMatchObject({
      kind: 'bad-request',
      error: expect.stringMatching(/unknown target function fn:nope; one of fn:smooth/),
    });
    expect((await rejection(h.raw('paper.approxRun', [{ depths: [0] }]))).body.kind).toBe('bad-request');
    // non-affine batch norm is not a lab choice (on 1-D input it makes depth 1 one degree-n polynomial)
    expect((await rejection(h.raw('paper.approxRun', [{ bn: 'non-affine' }]))).body).toMatchObject({
      kind: 'bad-request',
      error: expect.stringMatching(/bn must be affine or none/),
    });
    const job = await h.call('paper.approxRun', {
      targets: ['fn:smooth'],
      depths: [1, 2],
      degrees: [3],
      steps: 20,
      relu: false,
    });
    expect(job).toMatchObject({ jobId: expect.stringMatching(/^lab-/), total: 2 });
    // answered while it runs: the service is not blocked, and a second lab is refused
    expect((await rejection(h.call('paper.approxRun', {}))).body.kind).toBe('conflict');
    const done = (await h.waitForEvent(
      (e) => e.type === 'approx-progress' && e.jobId === job.jobId && e.finished,
      120_000,
    )) as Extract<WorkbenchEvent, { type: 'approx-progress' }>;
    expect(done.error).toBeUndefined();
    const steps = h.events.filter(
      (e): e is Extract<WorkbenchEvent, { type: 'approx-progress' }> =>
        e.type === 'approx-progress' && e.jobId === job.jobId,
    );
    expect(steps.map((e) => e.done)).toEqual([0, 1, 2, 2]);
    expect(steps[1]!.last).toMatchObject({
      target: 'fn:smooth',
      family: 'bernstein',
      degree: 3,
      depth: 1,
      maxErr: expect.any(Number),
    });
    const res = await h.call('paper.approx', done.tag);
    expect(res.tag).toBe(done.tag);
    expect(res.points.map((p) => [p.family, p.degree, p.depth])).toEqual([
      ['bernstein', 3, 1],
      ['bernstein', 3, 2],
    ]);
    expect(res.verdicts).toHaveLength(1);
    // Its fits are runs like any other (one recorder): their status and epoch events reach the app too.
    for (const p of res.points) {
      const mine = h.events.filter(
        (e): e is Extract<WorkbenchEvent, { type: 'run-status' | 'run-epoch' }> =>
          (e.type === 'run-status' || e.type === 'run-epoch') && e.runId === p.runId,
      );
      expect(mine.map((e) => (e.type === 'run-status' ? e.status : `epoch ${e.epoch}`))).toEqual([
        'running',
        ...Array.from({ length: 10 }, (_, i) => `epoch ${i + 1}`),
        'finished',
      ]);
    }
  });
});
