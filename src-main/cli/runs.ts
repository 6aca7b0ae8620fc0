// Reading runs back: list, show (per-epoch and per-layer tables), export (CSV/JSON), export-model, predict.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseCsv } from 'csv-parse/sync';
import { EPOCH_METRICS, LAYER_METRICS } from '../../shared/metrics.js';
import { evaluateModel, parseModelFile } from '../../shared/model-file.js';
import { DB_HELP, openStore, openStoreIfExists } from './store.js';
import { printJson, printTable, termText } from './output.js';
import { formatMetric } from '../../shared/format.js';
import { UserError, numberFlag } from './errors.js';
import { runsToCsv } from '../service/export-csv.js';

interface Common {
  db?: string;
  json?: boolean;
}

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list stored runs (newest first)')
    .option('--status <status>', 'only runs with this status')
    .option('--sweep <id>', 'only runs of this sweep')
    .option('--limit <n>', 'at most n runs (default 50)', numberFlag('--limit'), 50)
    .option('--db <path>', DB_HELP)
    .option('--json', 'machine-readable output')
    .action(async (f: Common & { status?: string; sweep?: string; limit: number }) => {
      const store = await openStoreIfExists(f.db);
      if (!store) return f.json ? printJson({ total: 0, runs: [] }) : printTable(['id', 'name', 'status'], []);
      try {
        const { rows, total } = await store.listRuns({
          status: f.status as never,
          sweepId: f.sweep,
          limit: f.limit,
          orderBy: 'created_at',
          desc: true,
        });
        if (f.json) return printJson({ total, runs: rows });
        printTable(
          [
            'id',
            'name',
            'status',
            'dataset',
            'depth',
            'width',
            'epochs',
            'test_loss',
            'test_acc',
            'backend',
            'created',
          ],
          rows.map((r) => [
            r.id,
            r.name,
            r.status,
            r.dataset,
            r.depth,
            r.width,
            `${r.epochsDone}/${r.epochsTotal}`,
            r.final.test_loss,
            formatMetric('test_acc', r.final.test_acc),
            r.backend,
            r.createdAt,
          ]),
        );
        if (total > rows.length) process.stdout.write(`(${rows.length} of ${total}; --limit for more)\n`);
      } finally {
        await store.close();
      }
    });

  program
    .command('show <runId>')
    .description('a run: its spec, per-epoch metrics, and per-layer metrics at one epoch')
    .option('--epoch <n>', 'the epoch for the per-layer table (default: the last)', numberFlag('--epoch'))
    .option('--db <path>', DB_HELP)
    .option('--json', 'machine-readable output (every epoch and layer)')
    .action(async (runId: string, f: Common & { epoch?: number }) => {
      const store = await openStore(f.db, { readOnly: true });
      try {
        const run = await store.getRun(runId);
        const epochs = await store.epochMetrics(runId);
        const layers = await store.layerMetrics(runId, f.json ? {} : { epoch: f.epoch ?? run.epochsDone });
        if (f.json) return printJson({ run, epochs, layers });
        process.stdout.write(
          `run ${run.id}  ${termText(run.name)}  [${run.status}]  backend ${run.backend ?? '–'}  params ${run.paramCount ?? '–'}\n`,
        );
        process.stdout.write(
          `init ${run.spec.init}  batch norm ${run.spec.batchNorm ? (run.spec.bnAffine ? 'affine' : 'on (no affine)') : 'off'}\n`,
        );
        process.stdout.write(`spec ${JSON.stringify(run.spec)}\n`);
        if (run.error) process.stdout.write(`error: ${termText(run.error)}\n`);
        const present = EPOCH_METRICS.filter((m) => epochs.some((e) => e.metrics[m] !== undefined));
        printTable(
          ['epoch', ...present],
          epochs.map((e) => [e.epoch, ...present.map((m) => e.metrics[m])]),
        );
        const epoch = f.epoch ?? run.epochsDone;
        if (epoch > 0) {
          const metrics = LAYER_METRICS.filter((m) => layers.some((l) => l.metric === m));
          const byLayer = new Map<number, Record<string, number>>();
          for (const l of layers) byLayer.set(l.layer, { ...(byLayer.get(l.layer) ?? {}), [l.metric]: l.value });
          process.stdout.write(`per-layer metrics at epoch ${epoch}:\n`);
          printTable(
            ['layer', ...metrics],
            [...byLayer.entries()]
              .sort((a, b) => a[0] - b[0])
              .map(([layer, v]) => [layer, ...metrics.map((m) => v[m])]),
          );
        }
      } finally {
        await store.close();
      }
    });

  program
    .command('export <runIds...>')
    .description("export runs' per-epoch and per-layer metrics (long format: run,epoch,layer,metric,value)")
    .option('--format <fmt>', 'csv | json', 'csv')
    .option('--db <path>', DB_HELP)
    .action(async (runIds: string[], f: Common & { format: string }) => {
      if (f.format !== 'csv' && f.format !== 'json')
        throw new UserError(`--format must be csv or json (got "${f.format}")`);
      const store = await openStore(f.db, { readOnly: true });
      try {
        for (const id of runIds) await store.getRun(id);
        if (f.format === 'csv') process.stdout.write(await runsToCsv(store, runIds));
        else {
          const out = [];
          for (const id of runIds)
            out.push({
              run: await store.getRun(id),
              epochs: await store.epochMetrics(id),
              layers: await store.layerMetrics(id, {}),
            });
          printJson(out.length === 1 ? out[0] : out);
        }
      } finally {
        await store.close();
      }
    });

  program
    .command('export-model <runId>')
    .description('the trained model as self-describing JSON (docs/model-format.md), on stdout or into --out')
    .option('--compact', 'one line without indentation: the same JSON and numbers, about a third smaller')
    .option('--out <file>', 'write the model file here instead of stdout')
    .option('--db <path>', DB_HELP)
    .action(async (runId: string, f: Common & { compact?: boolean; out?: string }) => {
      const store = await openStore(f.db, { readOnly: true });
      let text: string;
      try {
        const state = await modelOf(store, runId);
        const { exportModelJson } = await import('../../workers/engine/export.js'); // tfjs loads only when needed
        text = JSON.stringify(exportModelJson(state), null, f.compact ? undefined : 2) + '\n';
      } finally {
        await store.close();
      }
      if (f.out === undefined) return void process.stdout.write(text);
      try {
        writeFileSync(f.out, text);
      } catch (e) {
        throw new UserError(`cannot write ${f.out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      process.stderr.write(`wrote ${f.out} (${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB)\n`);
    });

  program
    .command('predict [runId]')
    .description('outputs of a trained model for raw feature rows (CSV; a header row is optional)')
    .requiredOption('--input <file>', 'CSV of raw feature rows (as in the dataset, before standardisation)')
    .option('--model <file>', 'evaluate an exported model file (export-model) instead of a stored run')
    .option('--db <path>', DB_HELP)
    .option('--json', 'machine-readable output')
    .action(async (runId: string | undefined, f: Common & { input: string; model?: string }) => {
      if ((runId === undefined) === (f.model === undefined))
        throw new UserError('give either a run id or --model <file>');
      let task: 'classification' | 'regression';
      let result: number[][];
      if (f.model !== undefined) {
        const model = parseModelFile(readText(f.model), f.model);
        const { rows, n } = readFeatureRows(f.input, model.inputDim);
        task = model.task;
        result = Array.from({ length: n }, (_, i) =>
          evaluateModel(model, rows.subarray(i * model.inputDim, (i + 1) * model.inputDim)),
        );
      } else {
        const store = await openStore(f.db, { readOnly: true });
        try {
          const state = await modelOf(store, runId as string);
          const { exportModelJson, predict } = await import('../../workers/engine/export.js');
          const { initBackend } = await import('../../workers/engine/backend.js');
          await initBackend();
          const model = exportModelJson(state);
          const { rows, n } = readFeatureRows(f.input, model.inputDim);
          const out = predict(state, rows, n);
          const k = out.length / n;
          task = model.task;
          result = Array.from({ length: n }, (_, i) => Array.from(out.subarray(i * k, (i + 1) * k)));
        } finally {
          await store.close();
        }
      }
      if (f.json) return printJson({ task, outputs: result });
      const k = result[0].length;
      const head =
        task === 'classification'
          ? ['row', 'class', ...Array.from({ length: k }, (_, c) => `p${c}`)]
          : ['row', 'value'];
      printTable(
        head,
        result.map((o, i) => (task === 'classification' ? [i + 1, o.indexOf(Math.max(...o)), ...o] : [i + 1, o[0]])),
      );
    });
}

type Store = Awaited<ReturnType<typeof openStore>>;

async function modelOf(store: Store, runId: string): Promise<Uint8Array> {
  await store.getRun(runId);
  const state = await store.loadModel(runId);
  if (!state) throw new UserError(`run ${runId} has no trained model yet (it has not finished)`);
  return state;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** Numeric CSV rows with exactly `dim` columns; a first row that is not numeric is taken as a header. */
export function readFeatureRows(path: string, dim: number): { rows: Float32Array; n: number } {
  const text = readText(path);
  let records: string[][];
  try {
    records = parseCsv(text, { skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  } catch (e) {
    throw new UserError(`${path} is not valid CSV: ${(e as Error).message}`);
  }
  // A header is a first row with no numbers at all; a row mixing numbers and text is a data error.
  const header = records.length > 0 && records[0].every((c) => c === '' || !Number.isFinite(Number(c)));
  if (header) records = records.slice(1);
  const lineOf = (i: number) => i + (header ? 2 : 1);
  if (records.length === 0) throw new UserError(`${path} has no data rows`);
  const rows = new Float32Array(records.length * dim);
  records.forEach((r, i) => {
    if (r.length !== dim)
      throw new UserError(`${path} line ${lineOf(i)}: ${r.length} columns, the model takes ${dim} features`);
    r.forEach((c, j) => {
      const v = Number(c);
      if (c === '' || !Number.isFinite(v))
        throw new UserError(`${path} line ${lineOf(i)}, column ${j + 1}: "${c}" is not a finite number`);
      rows[i * dim + j] = v;
    });
  });
  return { rows, n: records.length };
}
