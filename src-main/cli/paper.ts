// `deepbern report | certificate | approx | paper run`: the paper pack (docs/paper.md). What trains (`approx`,
// `paper run`) goes through the workbench service like every front end: its lease, scheduler and recorder.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { DEAD_READINGS, defaultDeadReading, type DeadReading, type GradientCertificate } from '../../shared/paper.js';
import { parseSweepText, planSweep } from '../../shared/sweep.js';
import type { DatasetInfo } from '../../shared/api.js';
import type { BackendPref } from '../../workers/engine/backend.js';
import { APPROX_DEFAULTS, checkApproxOptions, loadApproxResults, type ApproxLabOptions } from '../report/approx-lab.js';
import { TARGET_FUNCTIONS } from '../../shared/approx-targets.js';
import { renderApproxReport } from '../report/approx.js';
import { buildCertificate } from '../report/certificate.js';
import { buildPaperReport } from '../report/paper-report.js';
import type { WorkbenchService } from '../service/workbench-service.js';
import { defaultDbPath } from '../store/paths.js';
import {
  BAND_MODES,
  DEFAULT_GROUP_BY,
  GROUP_FIELDS,
  unknownGroupFields,
  type BandMode,
  type GroupOption,
} from '../../shared/groups.js';
import type { RunStore } from '../store/run-store.js';
import { numberFlag, UserError } from './errors.js';
import { fmt, printJson, printTable } from './output.js';
import { DB_HELP, openStore } from './store.js';

async function withStore<T>(db: string | undefined, fn: (s: RunStore) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** A service for a command that trains (tfjs loads only then), closed when `fn` is done. */
async function withService<T>(
  f: { db?: string; workers?: number; backend?: string },
  command: string,
  fn: (s: WorkbenchService) => Promise<T>,
): Promise<T> {
  const { WorkbenchService } = await import('../service/workbench-service.js');
  const service = await WorkbenchService.start({
    dbPath: f.db ?? defaultDbPath(),
    transport: 'cli',
    command,
    workers: f.workers,
    backend: f.backend as BackendPref | undefined,
    remoteFromSettings: false,
  });
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}

function writeOut(path: string, html: string): void {
  try {
    writeFileSync(path, html);
  } catch (e) {
    throw new UserError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** `1..6` or `1,2,4` → integers. */
export function parseIntList(flag: string, v: string): number[] {
  const range = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/.exec(v);
  const out = range
    ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i)
    : v.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 1 || n > 1000))
    throw new UserError(`${flag} must be integers ≥ 1 as a list (3,5,9) or a range (1..6) (got "${v}")`);
  return out;
}

function printCertificate(c: GradientCertificate): void {
  const out = process.stdout;
  out.write(
    `certificate for ${c.runId} ${c.label}  (n=${c.degree}, ε=${c.eps}, ${c.boundsMode === 'fixed' ? `[${c.bounds[0]},${c.bounds[1]}], δ̄ = ${fmt(c.deltaBar)}` : 'adaptive bounds: per-unit [l,u]'})\n`,
  );
  const last = c.cells.filter((x) => x.epoch === c.lastEpoch);
  printTable(
    ['layer', 'learned floor', "observed min |σ'|", 'clamped frac', 'status'],
    last.map((x) => [
      x.layer,
      x.learnedFloor,
      x.minDsigma,
      x.clippedFrac,
      x.violation
        ? 'VIOLATION'
        : x.floorBelowDeltaBar
          ? 'floor < δ̄'
          : x.minDsigma === null
            ? 'none inside [l,u]'
            : 'ok',
    ]),
  );
  out.write(
    `epoch ${c.lastEpoch} shown; ${c.checked} (layer, epoch) cells checked over all epochs, max clamped fraction ${fmt(c.maxClippedFrac)}`,
  );
  if (c.deltaBar !== null)
    out.write(`; min |σ'| ≥ δ̄ in ${c.aboveDeltaBar} of ${c.cells.filter((x) => x.minDsigma !== null).length} cells`);
  out.write('\n');
  if (c.ok) {
    out.write(
      `OK: observed min |σ'| ≥ proven floor at every layer and epoch (tolerance ${c.tolerance.abs} + ${c.tolerance.rel}·floor)\n`,
    );
    return;
  }
  for (const x of c.cells.filter((y) => y.violation || y.floorBelowDeltaBar)) {
    process.stderr.write(
      x.violation
        ? `VIOLATION layer ${x.layer} epoch ${x.epoch}: observed min |σ'| ${fmt(x.minDsigma)} < proven floor ${fmt(x.learnedFloor)}\n`
        : `FLOOR BELOW δ̄ layer ${x.layer} epoch ${x.epoch}: learned floor ${fmt(x.learnedFloor)} < δ̄ ${fmt(c.deltaBar)}\n`,
    );
  }
  process.stderr.write(
    `CERTIFICATE VIOLATED: ${c.violations} violation(s), ${c.floorBelowDeltaBar} floor(s) below δ̄\n`,
  );
}

/** The sweep text with `dataset:` pointed at an imported HIGGS when the file uses synthetic-higgs and one exists. */
export function resolvePaperDataset(
  datasets: readonly Pick<DatasetInfo, 'id' | 'kind' | 'rows'>[],
  text: string,
): { text: string; note: string } {
  const doc = parseDocument(text);
  if (doc.get('dataset') !== 'synthetic-higgs')
    return { text, note: `dataset ${String(doc.get('dataset'))} as written` };
  const higgs = datasets.filter((d) => d.kind === 'higgs').sort((a, b) => (b.rows ?? 0) - (a.rows ?? 0));
  if (higgs.length === 0)
    return { text, note: 'no imported HIGGS in the store: using synthetic-higgs (generated data)' };
  doc.set('dataset', higgs[0]!.id);
  return {
    text: doc.toString(),
    note: `using the imported HIGGS dataset ${higgs[0]!.id} (${higgs[0]!.rows ?? '?'} rows)`,
  };
}

function deadReadingFlag(v: string | undefined): DeadReading | undefined {
  if (v === undefined) return undefined;
  if (!(DEAD_READINGS as readonly string[]).includes(v))
    throw new UserError(`--dead-reading must be one of ${DEAD_READINGS.join(', ')} (got "${v}")`);
  return v as DeadReading;
}

/** `--group-by a,b|none` and `--band` → the report's grouping (undefined: automatic). */
function groupFlags(by: string | undefined, band: string | undefined): GroupOption | null | undefined {
  if (band !== undefined && !(BAND_MODES as readonly string[]).includes(band))
    throw new UserError(`--band must be one of ${BAND_MODES.join(', ')} (got "${band}")`);
  if (by === undefined) return band === undefined ? undefined : { by: DEFAULT_GROUP_BY, band: band as BandMode };
  if (by.trim() === 'none') return null;
  const fields = by
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = unknownGroupFields(fields);
  if (bad.length)
    throw new UserError(
      `--group-by: unknown field${bad.length > 1 ? 's' : ''} ${bad.join(', ')} (fields: ${GROUP_FIELDS.join(', ')}, or none)`,
    );
  return { by: fields, band: (band ?? 'minmax') as BandMode };
}

export function registerPaper(program: Command): void {
  program
    .command('report <sweepId>')
    .description(
      "a sweep's paper figures, final table and gradient certificates: one self-contained HTML file (--out) and/or JSON (--json)",
    )
    .option('--out <file>', 'the HTML file to write')
    .option(
      '--json',
      "print the same content as JSON on stdout: every figure's series, the final table, the certificates",
    )
    .option('--db <path>', DB_HELP)
    .option(
      '--dead-reading <which>',
      `dead-neuron ratio in the figures: epoch (average over the training batches, the paper's) or eval (fixed evaluation batch); default epoch`,
    )
    .option(
      '--group-by <fields>',
      'group runs into mean + band: comma-separated spec fields, or none (default: all but the seed, when the sweep varies the seed)',
    )
    .option('--band <band>', "the band around a group's mean: minmax or sd (±1 standard deviation); default minmax")
    .action(
      async (
        sweepId: string,
        f: { out?: string; json?: boolean; db?: string; deadReading?: string; groupBy?: string; band?: string },
      ) => {
        const dead = deadReadingFlag(f.deadReading);
        const group = groupFlags(f.groupBy, f.band);
        if (f.out === undefined && !f.json)
          throw new UserError('give --out <file> (the HTML report), --json (the same content as JSON), or both');
        await withStore(f.db, async (store) => {
          const r = await buildPaperReport(store, sweepId, { dead, group });
          if (f.out !== undefined) writeOut(f.out, r.html);
          const bad = r.certificates.filter((c) => !c.ok);
          if (f.json)
            printJson({
              format: 'deepbern-report',
              version: 1,
              sweepId,
              deadReading: dead ?? defaultDeadReading(r.figures.deadReadings),
              figures: r.figures,
              certificates: r.certificates,
            });
          if (f.out !== undefined)
            process.stderr.write(
              `wrote ${f.out}: ${r.figures.finalTable.length} runs, data: ${r.figures.source.description}\n`,
            );
          if (bad.length)
            process.stderr.write(
              `CERTIFICATE VIOLATED in ${bad.map((c) => c.runId).join(', ')} (see the report's certificate section)\n`,
            );
        });
      },
    );

  program
    .command('certificate <runId>')
    .description(
      "a Bernstein run's gradient certificate: proven floor vs observed min |σ'| per layer (exit 3 on a violation)",
    )
    .option('--db <path>', DB_HELP)
    .option('--json', 'machine-readable output')
    .action(async (runId: string, f: { db?: string; json?: boolean }) => {
      const c = await withStore(f.db, (store) => buildCertificate(store, runId));
      if (f.json) printJson(c);
      else printCertificate(c);
      if (!c.ok) process.exitCode = 3;
    });

  program
    .command('approx')
    .description(
      'approximation-rate lab: max error vs depth per Bernstein degree, vs parameter-matched ReLU nets and the degree-n^L polynomial floor',
    )
    .requiredOption('--out <file>', 'the HTML file to write')
    .option(
      '--targets <ids>',
      `comma-separated targets (default ${APPROX_DEFAULTS.targets.join(',')}; all: ${TARGET_FUNCTIONS.map((t) => t.id).join(',')})`,
    )
    .option('--depths <list>', 'depths, e.g. 1..6 or 1,2,4 (default 1..6)')
    .option('--degrees <list>', 'Bernstein degrees (default 3,5,9)')
    .option(
      '--width <n>',
      `hidden width of the Bernstein nets (default ${APPROX_DEFAULTS.width})`,
      numberFlag('--width'),
    )
    .option('--steps <n>', `full-batch Adam steps per fit (default ${APPROX_DEFAULTS.steps})`, numberFlag('--steps'))
    .option('--lr <rate>', `initial learning rate (default ${APPROX_DEFAULTS.lr})`, numberFlag('--lr'))
    .option(
      '--lr-final <rate>',
      `final learning rate, geometric decay (default ${APPROX_DEFAULTS.lrFinal})`,
      numberFlag('--lr-final'),
    )
    .option('--grid <n>', `train grid points (default ${APPROX_DEFAULTS.gridPoints})`, numberFlag('--grid'))
    .option(
      '--reports <n>',
      `report points per fit, where the validation grid is measured (default ${APPROX_DEFAULTS.reports})`,
      numberFlag('--reports'),
    )
    .option(
      '--bn <mode>',
      `batch norm in the Bernstein nets: affine | none (default ${APPROX_DEFAULTS.bn}; non-affine is not offered: on 1-D input it makes depth 1 a single degree-n polynomial)`,
    )
    .option(
      '--select <how>',
      `weights the verdict scores: validation (best report point on the validation grid) | final (default ${APPROX_DEFAULTS.select})`,
    )
    .option('--no-relu', 'skip the parameter-matched ReLU nets')
    .option(
      '--workers <n>',
      'worker threads to train on, one fit each at a time (default: CPU cores; 0 = this thread)',
      numberFlag('--workers'),
    )
    .option(
      '--show [tag]',
      "train nothing: render a stored lab (its lab:<id> tag, default the latest) with today's verdicts",
    )
    .option('--backend <name>', 'auto | wasm | cpu | tfjs-node')
    .option('--db <path>', `${DB_HELP}; the fits are stored as runs of kind approx`)
    .option('--json', 'print the results as JSON too')
    .action(
      async (f: {
        out: string;
        targets?: string;
        depths?: string;
        degrees?: string;
        width?: number;
        steps?: number;
        lr?: number;
        lrFinal?: number;
        grid?: number;
        reports?: number;
        bn?: string;
        select?: string;
        relu: boolean;
        workers?: number;
        show?: string | boolean;
        backend?: string;
        db?: string;
        json?: boolean;
      }) => {
        if (f.show !== undefined) {
          const tag = typeof f.show === 'string' ? f.show : undefined;
          const stored = await withStore(f.db, (store) => loadApproxResults(store, tag));
          if (stored.points.length === 0)
            throw new UserError(
              tag
                ? `no stored approximation lab has the tag ${tag}`
                : 'no approximation lab is stored in this database',
            );
          writeOut(f.out, renderApproxReport(stored));
          for (const c of stored.cells) process.stderr.write(`${c.limitedBy}: ${c.text}\n`);
          process.stderr.write(
            `wrote ${f.out} (stored lab ${stored.tag}${stored.legacy ? ', legacy: selected on the test grid, final fit shown' : ''})\n`,
          );
          if (f.json) printJson(stored);
          return;
        }
        const o: ApproxLabOptions = {
          ...APPROX_DEFAULTS,
          ...(f.targets ? { targets: f.targets.split(',').map((s) => s.trim()) } : {}),
          ...(f.depths ? { depths: parseIntList('--depths', f.depths) } : {}),
          ...(f.degrees ? { degrees: parseIntList('--degrees', f.degrees) } : {}),
          ...(f.width !== undefined ? { width: f.width } : {}),
          ...(f.steps !== undefined ? { steps: f.steps } : {}),
          ...(f.lr !== undefined ? { lr: f.lr } : {}),
          ...(f.lrFinal !== undefined ? { lrFinal: f.lrFinal } : {}),
          ...(f.grid !== undefined ? { gridPoints: f.grid } : {}),
          ...(f.reports !== undefined ? { reports: f.reports } : {}),
          ...(f.bn !== undefined ? { bn: f.bn as ApproxLabOptions['bn'] } : {}),
          ...(f.select !== undefined ? { select: f.select as ApproxLabOptions['select'] } : {}),
          relu: f.relu,
          backend: f.backend,
          workers: f.workers ?? cpus().length,
        };
        if (!Number.isInteger(o.workers) || o.workers! < 0 || o.workers! > 64)
          throw new UserError(`--workers must be an integer 0..64 (got ${f.workers})`);
        try {
          checkApproxOptions(o);
        } catch (e) {
          throw new UserError((e as Error).message);
        }
        // The service's pool stays idle (one thread at most): the lab trains on its own fit pool (o.workers).
        const r = await withService({ db: f.db, workers: 1, backend: f.backend }, 'deepbern approx', (service) =>
          service.approxLab(o, (d) => {
            const p = d.point;
            process.stderr.write(
              `[${d.index}/${d.total}] ${p.target} ${p.family === 'bernstein' ? `Bern n=${p.degree}` : `ReLU w=${p.width}`} L=${p.depth}: test max err final ${fmt(p.final.maxErr)}, selected ${fmt(p.selected?.maxErr ?? null)} (report ${p.selected?.index ?? '—'}, val ${fmt(p.selected?.valMaxErr ?? null)}) ${p.seconds.toFixed(1)}s\n`,
            );
          }),
        );
        writeOut(f.out, renderApproxReport(r));
        process.stderr.write(
          `verdict uses ${r.settings.select === 'validation' ? 'the validation-selected checkpoint' : 'the final fit'}\n`,
        );
        for (const c of r.cells) process.stderr.write(`${c.limitedBy}: ${c.text}\n`);
        process.stderr.write(`wrote ${f.out} (lab ${r.tag})\n`);
        if (f.json) printJson(r);
      },
    );

  program
    .command('paper')
    .description('the paper pack (docs/paper.md)')
    .command('run <file>')
    .description(
      'run a paper sweep file (an imported HIGGS replaces synthetic-higgs when present) and write its report',
    )
    .option('--out <file>', 'also write the HTML report here')
    .option('--workers <n>', 'parallel runs (default: CPU cores)', numberFlag('--workers'))
    .option('--db <path>', DB_HELP)
    .action(async (file: string, f: { out?: string; workers?: number; db?: string }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new UserError(`cannot read sweep file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      planSweep(parseSweepText(text)); // a bad file fails before the DB is touched (or tfjs loaded)
      await withService(f, 'deepbern paper run', async (service) => {
        const resolved = resolvePaperDataset(await service['datasets.list'](), text);
        const plan = planSweep(parseSweepText(resolved.text));
        process.stderr.write(`${resolved.note}\n`);
        const t0 = Date.now();
        service.onEvent((e) => {
          if (e.type === 'run-status' && e.status !== 'running' && e.status !== 'queued')
            process.stderr.write(
              `${e.runId} ${e.status}${e.error ? `: ${e.error}` : ''} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`,
            );
        });
        const sweep = await service.launchPlan(plan, resolved.text);
        process.stdout.write(`${sweep.id}\n`);
        process.stderr.write(`sweep ${sweep.id}: ${sweep.total} runs on ${service.capacityOf(sweep.id)} worker(s)\n`);
        await service.waitForSweep(sweep.id);
        process.stderr.write(`sweep ${sweep.id} done in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
        if (f.out) {
          writeOut(f.out, await service['paper.reportHtml'](sweep.id));
          process.stderr.write(`wrote ${f.out}\n`);
        }
      });
    });
}
