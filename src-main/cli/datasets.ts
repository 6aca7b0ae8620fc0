// `deepbern datasets list|import|remove`: built-in sets and imported UCI/CSV files (stored once, reused).
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { BUILTIN_DATASETS } from '../../workers/data/registry.js';
import { datasetsDirFor, importDatasetFile } from '../service/datasets.js';
import { cleanStaleFiles, cleanupLine } from '../service/stale-files.js';
import { IMPORT_KINDS, type ImportKind, type TaskKind } from '../../shared/vocab.js';
import { DB_HELP, openStore, openStoreIfExists } from './store.js';
import { printJson, printTable } from './output.js';
import { numberFlag, UserError } from './errors.js';

const KINDS = IMPORT_KINDS;

export function registerDatasets(program: Command): void {
  const ds = program.command('datasets').description('built-in and imported datasets');

  ds.command('list')
    .description('datasets ready to train on')
    .option('--db <path>', DB_HELP)
    .option('--json', 'machine-readable output')
    .action(async (f: { db?: string; json?: boolean }) => {
      const store = await openStoreIfExists(f.db);
      try {
        const imported = store ? await store.listDatasets() : [];
        const rows = [
          ...BUILTIN_DATASETS.map((d) => ({
            id: d.id,
            kind: 'builtin',
            task: d.task,
            inputDim: d.inputDim,
            outputDim: d.outputDim,
            rows: d.rows ?? null,
            title: d.title,
          })),
          ...imported.map((d) => ({
            id: d.id,
            kind: d.kind,
            task: d.task,
            inputDim: d.inputDim,
            outputDim: d.outputDim,
            rows: d.rows,
            title: d.title,
          })),
        ];
        if (f.json) return printJson(rows);
        printTable(
          ['id', 'kind', 'task', 'inputs', 'outputs', 'rows', 'title'],
          rows.map((r) => [r.id, r.kind, r.task, r.inputDim, r.outputDim, r.rows, r.title]),
        );
      } finally {
        await store?.close();
      }
    });

  ds.command('import <kind> <path>')
    .description(
      'import a UCI HIGGS/SUSY .csv(.gz), a CSV with a header, or a folder of MNIST-style IDX files (kind: higgs | susy | csv | idx)',
    )
    .option('--rows <n>', 'read at most n rows (HIGGS has 11M)', numberFlag('--rows'))
    .option('--label-column <name|index>', 'csv: the label column (default: the last)')
    .option('--task <task>', 'csv: classification | regression (default classification)')
    .option('--title <title>', 'a name to show')
    .option('--db <path>', DB_HELP)
    .option('--json', 'machine-readable output')
    .action(
      async (
        kind: string,
        path: string,
        f: { rows?: number; labelColumn?: string; task?: string; title?: string; db?: string; json?: boolean },
      ) => {
        if (!(KINDS as readonly string[]).includes(kind))
          throw new UserError(`dataset kind must be one of ${KINDS.join(', ')} (got "${kind}")`);
        if (f.task !== undefined && f.task !== 'classification' && f.task !== 'regression')
          throw new UserError('--task must be classification or regression');
        if (f.rows !== undefined && (!Number.isInteger(f.rows) || f.rows < 10))
          throw new UserError('--rows must be an integer ≥ 10');
        const store = await openStore(f.db);
        // An earlier import killed half-way left its temp file here: remove it before writing a new one.
        const cleaned = cleanupLine(await cleanStaleFiles({ datasetsDir: datasetsDirFor(store.path), tempRoot: null }));
        if (cleaned) process.stderr.write(`deepbern: ${cleaned}\n`);
        const bar =
          process.stderr.isTTY && !f.json
            ? new cliProgress.SingleBar(
                { format: 'import |{bar}| {percentage}% {rows} rows', stream: process.stderr },
                cliProgress.Presets.shades_classic,
              )
            : null;
        bar?.start(100, 0, { rows: 0 });
        try {
          const label =
            f.labelColumn !== undefined && /^\d+$/.test(f.labelColumn) ? Number(f.labelColumn) : f.labelColumn;
          const info = await importDatasetFile(store, {
            kind: kind as ImportKind,
            path,
            rows: f.rows,
            labelColumn: label,
            task: f.task as TaskKind | undefined,
            title: f.title,
            onProgress: (p) => bar?.update(Math.round(p.fraction * 100), { rows: p.rows }),
          });
          bar?.update(100);
          bar?.stop();
          if (f.json) printJson(info);
          else
            process.stdout.write(`imported ${info.id}: ${info.rows} rows, ${info.inputDim} features, ${info.task}\n`);
        } catch (e) {
          bar?.stop();
          throw e;
        } finally {
          await store.close();
        }
      },
    );
}
