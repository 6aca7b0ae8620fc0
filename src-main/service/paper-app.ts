// The app side of the paper pack: the example sweep files (Paper → Reproduce) and approximation labs started
// from the app in the background (progress as `approx-progress` events).
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { ApproxLabJob, ApproxLabRequest, PaperExample, WorkbenchEvent } from '../../shared/api.js';
import { APPROX_DEFAULTS, checkApproxOptions, runApproxLab, type ApproxLabOptions } from '../report/approx-lab.js';
import type { RunStore } from '../store/run-store.js';
import type { Ownership } from '../scheduler/ownership.js';
import { ServiceError } from './errors.js';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';

/** examples/paper, found upward from this module (src-main/service in the repo, dist/src-main/service built). */
export function examplesDir(from = dirname(fileURLToPath(import.meta.url))): string | null {
  let d = from;
  for (let i = 0; i < 6; i++) {
    const c = join(d, 'examples', 'paper');
    if (existsSync(c)) return c;
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return null;
}

/** The leading `#` comment lines as one paragraph. */
function leadComment(text: string): string {
  const lines: string[] = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('#')) break;
    lines.push(l.replace(/^#\s?/, ''));
  }
  return lines.join(' ').replace(/\s+/g, ' ').trim();
}

export async function listPaperExamples(dir = examplesDir()): Promise<PaperExample[]> {
  if (!dir) return [];
  const files = (await readdir(dir))
    .filter((f) => /\.ya?ml$/i.test(f))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const out: PaperExample[] = [];
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    const doc = parseDocument(text).toJS() as { name?: unknown } | null;
    out.push({
      file,
      name: typeof doc?.name === 'string' ? doc.name : file.replace(/\.ya?ml$/i, ''),
      description: leadComment(text),
      text,
    });
  }
  return out;
}
/** Laptop-sized files first: they are the ones "Reproduce" offers. */
const rank = (f: string) => (/laptop/.test(f) ? 0 : 1);

/** Small by default: the app's lab is a demo of the shape of the curves, the CLI does the full pack. */
export const APP_LAB_DEFAULTS: Required<ApproxLabRequest> = {
  targets: ['fn:smooth'],
  depths: [1, 2, 3],
  degrees: [3, 9],
  width: 8,
  steps: 1500,
  relu: true,
  bn: APPROX_DEFAULTS.bn,
  select: 'validation',
};

export class ApproxLabRunner {
  private running: { jobId: string; promise: Promise<void> } | null = null;

  constructor(
    private readonly store: RunStore,
    private readonly backend: string,
    private readonly emit: (e: WorkbenchEvent) => void,
    /** The service's lease: the lab's fits are its runs, like the ones its scheduler drives. */
    private readonly ownership?: Ownership,
    /** Fit threads: the service's pool size (the desktop app's leaves one core for the window). */
    private readonly workers: () => number = () => Math.max(1, cpus().length),
  ) {}

  get busy(): boolean {
    return this.running !== null;
  }

  start(req: ApproxLabRequest): ApproxLabJob {
    if (this.running)
      throw new ServiceError(
        'conflict',
        `an approximation lab is already running (${this.running.jobId}); wait for it to finish`,
      );
    const r = { ...APP_LAB_DEFAULTS, ...req };
    const o: ApproxLabOptions = {
      ...APPROX_DEFAULTS,
      targets: r.targets,
      depths: r.depths,
      degrees: r.degrees,
      width: r.width,
      steps: r.steps,
      relu: r.relu,
      bn: r.bn,
      select: r.select,
      backend: this.backend,
      workers: Math.max(1, this.workers()),
    };
    try {
      checkApproxOptions(o);
    } catch (e) {
      throw new ServiceError('bad-request', (e as Error).message);
    }
    const total = o.targets.length * o.depths.length * o.degrees.length * (o.relu ? 2 : 1);
    const jobId = `lab-${randomBytes(5).toString('hex')}`;
    this.emit({ type: 'approx-progress', jobId, done: 0, total, finished: false });
    const promise = (async () => {
      try {
        const res = await runApproxLab(
          this.store,
          o,
          (f) =>
            this.emit({
              type: 'approx-progress',
              jobId,
              done: f.index,
              total: f.total,
              finished: false,
              last: {
                target: f.point.target,
                family: f.point.family,
                degree: f.point.degree ?? f.point.matchedDegree,
                depth: f.point.depth,
                maxErr: f.point.verdictErr,
              },
            }),
          {},
          { ownership: this.ownership, emit: this.emit },
        );
        this.emit({ type: 'approx-progress', jobId, done: total, total, finished: true, tag: res.tag });
      } catch (e) {
        this.emit({
          type: 'approx-progress',
          jobId,
          done: 0,
          total,
          finished: true,
          error: e instanceof Error ? e.message : String(e),
        });
      } finally {
        this.running = null;
      }
    })();
    this.running = { jobId, promise };
    return { jobId, total };
  }

  /** Resolves once the running lab (if any) has stopped. */
  async idle(): Promise<void> {
    await this.running?.promise;
  }
}
