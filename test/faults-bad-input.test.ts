// The bad-input corpus: every case gets one clear error and the DB stays byte-for-byte the same (a hash of a
// full dump before and after). Table-driven: specs, sweep files, CSV/CSV.gz, IDX, model files, API calls, ids.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, dbHash, expectOneLineError, tempDir, tinyTrainArgs } from './support/cli.js';
import { httpHarness, CallError, type Harness } from './service-harness.js';
import { mnistDataDir } from '../workers/data/mnist.js';

const tmp = tempDir('deepbern-corpus-');
const db = join(tmp.dir, 'wb.db');
const f = (name: string, content: string | Buffer) => {
  const p = join(tmp.dir, name);
  writeFileSync(p, content);
  return p;
};
let runId = '';
let sweepId = '';
let api: Harness;

beforeAll(async () => {
  const t = cli([
    'train',
    '--rows',
    '200',
    '--depth',
    '2',
    '--width',
    '4',
    '--activation',
    'bernstein',
    '--epochs',
    '1',
    '--db',
    db,
  ]);
  expect(t.code).toBe(0);
  runId = t.stdout.trim();
  const s = cli([
    'sweep',
    'run',
    f(
      'ok.yaml',
      'name: ok\ndataset: synthetic-higgs\nrows: 200\nbase: {depth: 2, width: 4, epochs: 1, activation: relu}\n',
    ),
    '--workers',
    '1',
    '--db',
    db,
  ]);
  expect(s.code).toBe(0);
  sweepId = s.stdout.trim();
  api = await httpHarness({ dbPath: db, workers: 1 });
}, 180_000);

afterAll(async () => {
  await api?.close();
  tmp.cleanup();
});

const higgsRow = (label = '1', features: string[] = Array.from({ length: 28 }, () => '0.5')) =>
  [label, ...features].join(',');
/** A gzip of varied rows, cut in the middle of its compressed stream. */
function cutGzip(): Buffer {
  const rows = Array.from({ length: 400 }, (_, i) =>
    higgsRow(
      String(i % 2),
      Array.from({ length: 28 }, (_, j) => String(Math.sin(i * 31 + j))),
    ),
  );
  const gz = gzipSync(rows.join('\n'));
  return gz.subarray(0, Math.floor(gz.length / 2));
}
const sweepHead = 'name: bad\ndataset: synthetic-higgs\nbase: {depth: 2, width: 4, activation: relu, epochs: 1}\n';
const train = (...extra: string[]) => tinyTrainArgs(db, ...extra);

type Case = [string, () => string[], RegExp];
const cliCases: Case[] = [
  // network specs
  ['spec: degree 0', () => train('--degree', '0'), /degree must be an integer between 1 and 64/],
  ['spec: l ≥ u', () => train('--bounds', '2,2'), /bounds must satisfy l < u/],
  ['spec: ε < 0', () => train('--eps', '-1'), /eps must be ≥ 0/],
  ['spec: lr 0', () => train('--lr', '0'), /lr must be > 0/],
  ['spec: batch size 0', () => train('--batch-size', '0'), /batchSize must be an integer between 1/],
  ['spec: test fraction 1', () => train('--test-fraction', '1'), /testFraction must be > 0 and ≤ 0\.9/],
  ['spec: depth 1.5', () => train('--depth', '1.5'), /depth must be an integer/],
  ['spec: bounds beyond float32', () => train('--bounds', '0,1e39'), /bounds must be within the float32 range/],
  ['spec: bounds width overflows float32', () => train('--bounds', '-3e38,3e38'), /width u − l overflows float32/],
  [
    'spec: bounds width underflows float32 (same float32)',
    () => train('--bounds', '1,1.000000000001'),
    /width u − l underflows float32 .*same float32 number/,
  ],
  [
    'spec: bounds width underflows float32 (subnormal)',
    () => train('--bounds', '0,1e-39'),
    /width u − l underflows float32/,
  ],
  [
    'spec: unknown init in a spec file',
    () => ['train', '--spec', f('s-init.yaml', 'depth: 2\nwidth: 4\nactivation: relu\ninit: glorot\n'), '--db', db],
    /init must be one of torch, he_normal, he_uniform, lecun_normal, xavier_uniform, xavier_normal/,
  ],
  [
    'spec: bnAffine not a boolean',
    () => ['train', '--spec', f('s-bna.yaml', 'depth: 2\nwidth: 4\nactivation: relu\nbnAffine: maybe\n'), '--db', db],
    /bnAffine must be true or false/,
  ],
  [
    'spec: unknown field in a spec file',
    () => ['train', '--spec', f('s1.yaml', 'depth: 2\nwidth: 4\nactivation: relu\ncolour: red\n'), '--db', db],
    /unknown field: colour/,
  ],
  [
    'spec: spec file not a mapping',
    () => ['train', '--spec', f('s2.yaml', '- 1\n- 2\n'), '--db', db],
    /must hold a mapping/,
  ],
  [
    'spec: spec file bad YAML',
    () => ['train', '--spec', f('s3.yaml', 'depth: [1,\n'), '--db', db],
    /not valid JSON\/YAML/,
  ],
  [
    'spec: missing spec file',
    () => ['train', '--spec', join(tmp.dir, 'absent.yaml'), '--db', db],
    /cannot read spec file .*ENOENT/,
  ],
  // (a missing --depth/--width/--activation is no longer an error: train defaults to the designer's starting net)
  [
    'spec: depth 0 in a spec file',
    () => ['train', '--spec', f('s-depth0.yaml', 'depth: 0\nwidth: 4\nactivation: relu\n'), '--db', db],
    /depth must be an integer between 1/,
  ],
  // sweep files
  [
    'sweep: unknown parameter',
    () => ['sweep', 'run', f('w1.yaml', sweepHead + 'parameters:\n  colour: {values: [1]}\n'), '--db', db],
    /line 5: parameters\.colour: unknown parameter/,
  ],
  [
    'sweep: empty values',
    () => ['sweep', 'run', f('w2.yaml', sweepHead + 'parameters:\n  depth: {values: []}\n'), '--db', db],
    /values must list at least one value/,
  ],
  [
    'sweep: min > max',
    () => [
      'sweep',
      'run',
      f('w3.yaml', sweepHead + 'method: random\nrun_cap: 2\nparameters:\n  lr: {min: 1, max: 0.1}\n'),
      '--db',
      db,
    ],
    /min must be ≤ max/,
  ],
  [
    'sweep: huge grid without run_cap',
    () => [
      'sweep',
      'run',
      f(
        'w4.yaml',
        sweepHead +
          `parameters:\n  width: {values: [${Array.from({ length: 101 }, (_, i) => i + 1)}]}\n  seed: {values: [${Array.from({ length: 100 }, (_, i) => i)}]}\n`,
      ),
      '--db',
      db,
    ],
    /10100 runs .*set run_cap/,
  ],
  ['sweep: YAML syntax', () => ['sweep', 'run', f('w5.yaml', 'name: [unclosed\n'), '--db', db], /line \d+:/],
  [
    'sweep: random without run_cap',
    () => [
      'sweep',
      'run',
      f('w6.yaml', sweepHead + 'method: random\nparameters:\n  lr: {min: 0.001, max: 0.1}\n'),
      '--db',
      db,
    ],
    /method random needs run_cap/,
  ],
  [
    'sweep: invalid point',
    () => ['sweep', 'run', f('w7.yaml', sweepHead + 'parameters:\n  degree: {values: [3, 0]}\n'), '--db', db],
    /degree must be an integer between 1 and 64/,
  ],
  [
    'sweep: unknown dataset',
    () => ['sweep', 'run', f('w8.yaml', sweepHead.replace('synthetic-higgs', 'cifar')), '--db', db],
    /unknown dataset "cifar"/,
  ],
  ['sweep: unknown sweep id (show)', () => ['sweep', 'show', 'snope', '--db', db], /no sweep with id snope/],
  ['sweep: unknown sweep id (resume)', () => ['sweep', 'resume', 'snope', '--db', db], /no sweep with id snope/],
  ['sweep: resume a finished sweep', () => ['sweep', 'resume', sweepId, '--db', db], /nothing to resume/],
  [
    'sweep: bad --workers',
    () => ['sweep', 'run', join(tmp.dir, 'ok.yaml'), '--workers', '0', '--db', db],
    /--workers must be an integer between 1 and 256/,
  ],
  // CSV / CSV.gz
  [
    'csv: truncated gzip',
    () => ['datasets', 'import', 'higgs', f('t.csv.gz', cutGzip()), '--db', db],
    /truncated gzip data/,
  ],
  [
    'csv: wrong column count',
    () => ['datasets', 'import', 'higgs', f('c1.csv', higgsRow() + '\n1,2,3\n'), '--db', db],
    /line 2: expected 29 columns/,
  ],
  [
    'csv: NaN',
    () => [
      'datasets',
      'import',
      'higgs',
      f(
        'c2.csv',
        higgsRow(
          '1',
          Array.from({ length: 28 }, (_, i) => (i === 5 ? 'NaN' : '1')),
        ) + '\n',
      ),
      '--db',
      db,
    ],
    /line 1, column 7/,
  ],
  [
    'csv: Inf',
    () => [
      'datasets',
      'import',
      'higgs',
      f(
        'c3.csv',
        higgsRow(
          '0',
          Array.from({ length: 28 }, (_, i) => (i === 0 ? 'Infinity' : '1')),
        ) + '\n',
      ),
      '--db',
      db,
    ],
    /line 1, column 2/,
  ],
  ['csv: empty', () => ['datasets', 'import', 'higgs', f('c4.csv', ''), '--db', db], /empty/],
  [
    'csv: one row',
    () => [
      'datasets',
      'import',
      'susy',
      f('c5.csv', ['1', ...Array.from({ length: 18 }, () => '0.1')].join(',') + '\n'),
      '--db',
      db,
    ],
    /1 data row; a dataset needs at least 10/,
  ],
  [
    'csv: huge line',
    () => ['datasets', 'import', 'higgs', f('c6.csv', '1,' + '7'.repeat(5_000_000) + '\n'), '--db', db],
    /line 1: expected 29 columns/,
  ],
  ['csv: label not 0/1', () => ['datasets', 'import', 'higgs', f('c7.csv', higgsRow('7') + '\n'), '--db', db], /label/],
  // numbers beyond float32 (they would be stored as ±Inf) and number syntaxes that are not plain decimals
  ...(
    [
      ['1e39', /line 3, column 4: 1e39 is beyond the float32 range/],
      ['-3.5e38', /line 3, column 4: -3\.5e38 is beyond the float32 range/],
      ['1e400', /line 3, column 4: 1e400 is beyond the float32 range/],
      ['0x10', /line 3, column 4: "0x10" is not a plain decimal number/],
      ['0X1f', /line 3, column 4: "0X1f" is not a plain decimal number/],
      ['0b101', /line 3, column 4: "0b101" is not a plain decimal number/],
      ['0o17', /line 3, column 4: "0o17" is not a plain decimal number/],
      ['1_000', /line 3, column 4: "1_000" is not a number/],
      ['-Infinity', /line 3, column 4: -Infinity is not allowed/],
      ['inf', /line 3, column 4: inf is not allowed/],
    ] as const
  ).flatMap(([v, re], i): Case[] => [
    [
      `csv: HIGGS value ${v}`,
      () => [
        'datasets',
        'import',
        'higgs',
        f(
          `n${i}.csv`,
          [
            higgsRow(),
            higgsRow('0'),
            higgsRow(
              '1',
              Array.from({ length: 28 }, (_, j) => (j === 2 ? v : '0.5')),
            ),
          ].join('\n') + '\n',
        ),
        '--db',
        db,
      ],
      re,
    ],
    [
      `csv: user CSV value ${v}`,
      () => [
        'datasets',
        'import',
        'csv',
        f(
          `u${i}.csv`,
          'a,b,c,d,y\n' +
            Array.from({ length: 20 }, (_, k) => (k === 1 ? `1,2,3,${v},0` : `1,2,3,4,${k % 2}`)).join('\n') +
            '\n',
        ),
        '--db',
        db,
      ],
      new RegExp(re.source.replace('column 4:', 'column 4 \\(d\\):')),
    ],
  ]),
  [
    'csv: user CSV regression label beyond float32',
    () => [
      'datasets',
      'import',
      'csv',
      f(
        'ur.csv',
        'a,y\n' + Array.from({ length: 20 }, (_, k) => `${k},${k === 5 ? '4e38' : k + 0.5}`).join('\n') + '\n',
      ),
      '--task',
      'regression',
      '--db',
      db,
    ],
    /line 7, column 2 \(y\): 4e38 is beyond the float32 range/,
  ],
  [
    'csv: user CSV unknown label column',
    () => [
      'datasets',
      'import',
      'csv',
      f('c8.csv', 'a,b,y\n' + Array.from({ length: 20 }, (_, i) => `${i},${i},${i % 2}`).join('\n') + '\n'),
      '--label-column',
      'target',
      '--db',
      db,
    ],
    /target/,
  ],
  // IDX
  [
    'idx: truncated images',
    () => {
      const dir = join(tmp.dir, 'idx-trunc');
      mkdirSync(dir, { recursive: true });
      for (const n of [
        'train-images-idx3-ubyte',
        'train-labels-idx1-ubyte',
        't10k-images-idx3-ubyte',
        't10k-labels-idx1-ubyte',
      ])
        copyFileSync(join(mnistDataDir(), n), join(dir, n));
      writeFileSync(
        join(dir, 't10k-images-idx3-ubyte'),
        readFileSync(join(mnistDataDir(), 't10k-images-idx3-ubyte')).subarray(0, 5000),
      );
      return ['datasets', 'import', 'idx', dir, '--db', db];
    },
    /t10k-images-idx3-ubyte: IDX file truncated/,
  ],
  [
    'idx: wrong magic',
    () => {
      const dir = join(tmp.dir, 'idx-magic');
      mkdirSync(dir, { recursive: true });
      for (const n of [
        'train-images-idx3-ubyte',
        'train-labels-idx1-ubyte',
        't10k-images-idx3-ubyte',
        't10k-labels-idx1-ubyte',
      ])
        writeFileSync(join(dir, n), 'not an idx file at all');
      return ['datasets', 'import', 'idx', dir, '--db', db];
    },
    /idx/i,
  ],
  [
    'idx: missing folder',
    () => ['datasets', 'import', 'idx', join(tmp.dir, 'no-such-dir'), '--db', db],
    /no-such-dir|ENOENT|cannot read/,
  ],
  // exported model files
  [
    'model: not JSON',
    () => ['predict', '--model', f('m1.json', '{"format": '), '--input', f('rows.csv', '1,2\n')],
    /m1\.json is not JSON/,
  ],
  [
    'model: not a DeepBern model',
    () => ['predict', '--model', f('m2.json', '{"format":"onnx"}'), '--input', join(tmp.dir, 'rows.csv')],
    /format must be "deepbern-model"/,
  ],
  [
    'model: NaN weight',
    () => [
      'predict',
      '--model',
      f(
        'm3.json',
        JSON.stringify({
          format: 'deepbern-model',
          version: 1,
          task: 'regression',
          inputDim: 1,
          outputDim: 1,
          standardization: { mean: [0], std: [1] },
          layers: [{ type: 'dense', inputDim: 1, outputDim: 1, weights: [[null]], bias: [0] }],
        }),
      ),
      '--input',
      join(tmp.dir, 'rows.csv'),
    ],
    /layers\.0\.weights\.0\.0: must be a finite number/,
  ],
  [
    'model: newer version',
    () => [
      'predict',
      '--model',
      f('m4.json', JSON.stringify({ format: 'deepbern-model', version: 2 })),
      '--input',
      join(tmp.dir, 'rows.csv'),
    ],
    /version must be 1/,
  ],
  // unknown ids
  ['id: show', () => ['show', 'rnope', '--db', db], /no run with id rnope/],
  ['id: export', () => ['export', 'rnope', '--db', db], /no run with id rnope/],
  ['id: export-model', () => ['export-model', 'rnope', '--db', db], /no run with id rnope/],
  ['id: predict', () => ['predict', 'rnope', '--input', join(tmp.dir, 'rows.csv'), '--db', db], /no run with id rnope/],
  [
    'predict: rows of the wrong width',
    () => ['predict', runId, '--input', join(tmp.dir, 'rows.csv'), '--db', db],
    /line 1: 2 columns, the model takes 28 features/,
  ],
];

describe('bad-input corpus: command line', () => {
  it(`has at least 30 cases (${cliCases.length})`, () => expect(cliCases.length).toBeGreaterThanOrEqual(30));
  // The DB's hash after one case is the next case's "before" (nothing else writes it meanwhile): one dump per
  // case instead of two. A case that changes the DB fails, and the next one compares with what it left.
  let hash: string | undefined;
  it.each(cliCases)('%s → one clear error, DB unchanged', (_name, args, re) => {
    const before = (hash ??= dbHash(db));
    const r = cli(args());
    hash = dbHash(db);
    expectOneLineError(r, re);
    expect(hash).toBe(before);
  });
});

const apiCases: [string, string, unknown, RegExp, number][] = [
  ['wrong type', 'runs.get', [42], /./, 400],
  ['extra field', 'runs.list', [{ limit: 5, colour: 'red' }], /colour|unrecognized/i, 400],
  ['missing argument', 'runs.setTags', ['x'], /./, 400],
  ['not an array', 'runs.list', { limit: 5 }, /./, 400],
  ['unknown run id', 'runs.get', ['rnope'], /no run with id rnope/, 404],
  ['unknown run id (delete)', 'runs.delete', [['rnope']], /rnope/, 404],
  ['unknown sweep id', 'sweeps.get', ['snope'], /no sweep with id snope/, 404],
  [
    'bad sweep file',
    'sweeps.launch',
    ['name: x\nparameters:\n  colour: {values: [1]}\n'],
    /parameters\.colour: unknown parameter/,
    400,
  ],
  ['unknown method', 'runs.explode', [], /./, 404],
];

describe('bad-input corpus: API calls', () => {
  it.each(apiCases)('%s → %s rejected with the reason, DB unchanged', async (_name, method, args, re, status) => {
    const before = dbHash(db);
    const err = await api.raw(method, args).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CallError);
    expect((err as CallError).status).toBe(status);
    expect((err as CallError).body.error).toMatch(re);
    expect(dbHash(db)).toBe(before);
  });
});
