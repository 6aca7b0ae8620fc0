// Training progress: a live bar on a TTY (epoch, batch, loss, ETA), plain lines otherwise (logs, CI, pipes).
import cliProgress from 'cli-progress';
import type { EpochReport } from '../../shared/metrics.js';
import type { BatchProgress } from '../../shared/run-events.js';
import { fmt } from './output.js';
import { formatMetric } from '../../shared/format.js';

export interface ProgressSink {
  batch(p: BatchProgress & { epochs: number }): void;
  epoch(report: EpochReport, epochs: number): void;
  stop(): void;
  /** The line prefix (e.g. a run id known only once the run is stored). */
  setLabel(label: string): void;
}

export function epochLine(r: EpochReport, epochs: number): string {
  const m = r.metrics;
  const parts = [`epoch ${r.epoch}/${epochs}`, `train_loss ${fmt(m.train_loss)}`, `test_loss ${fmt(m.test_loss)}`];
  if (m.test_acc !== undefined) parts.push(`test_acc ${formatMetric('test_acc', m.test_acc)}`);
  // Both dead readings (docs/metrics.md): the paper's epoch average over the training batches, the eval batch.
  if (m.dead_ratio_epoch !== undefined)
    parts.push(`dead_epoch ${formatMetric('dead_ratio_epoch', m.dead_ratio_epoch)}`);
  parts.push(`dead_eval ${formatMetric('dead_ratio', m.dead_ratio)}`, `mag1 ${fmt(m.mag1)}`, `${fmt(m.epoch_time_s)}s`);
  return parts.join('  ');
}

/** Until an ETA is measurable (nothing done yet, no time elapsed, a rate that is 0 or not finite). */
export const NO_ETA = '—';

/** "ETA" text from work done/total and the time it took: `—` until measurable, never NaN, Infinity or "NFs". */
export function etaText(done: number, total: number, elapsedMs: number): string {
  if (!(done > 0) || !(elapsedMs > 0) || !(total >= done) || !Number.isFinite(done + total + elapsedMs)) return NO_ETA;
  const s = Math.round(((total - done) * elapsedMs) / done / 1000);
  if (!Number.isFinite(s) || s < 0 || s > 1e7) return NO_ETA;
  const two = (n: number) => String(n).padStart(2, '0');
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${two(Math.floor((s % 3600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${two(s % 60)}s`;
  return `${s}s`;
}

/** ETA of a job of `total` units from the first progress it saw (time before that, e.g. loading data, is not work). */
export function etaClock(now: () => number = Date.now): (done: number, total: number) => string {
  let start: { t: number; done: number } | null = null;
  return (done, total) => {
    if (start === null || done < start.done) start = { t: now(), done };
    return etaText(done - start.done, total - start.done, now() - start.t);
  };
}

export function createProgress(init: { json: boolean; label: string }): ProgressSink {
  const opts = { ...init };
  const setLabel = (label: string) => void (opts.label = label);
  const tty = process.stderr.isTTY === true && !opts.json;
  if (!tty) {
    return {
      setLabel,
      batch: () => undefined,
      epoch: (r, epochs) => {
        if (opts.json) process.stdout.write(JSON.stringify({ event: 'epoch', ...r }) + '\n');
        else process.stderr.write(`${opts.label}  ${epochLine(r, epochs)}\n`);
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      // Our ETA (the run's, over every epoch), not cli-progress's {eta}: that one prints "NFs" for an infinite rate.
      format: `{label} epoch {epoch}/{epochs} |{bar}| batch {value}/{total}  loss {loss}  ETA {etaText}`,
      hideCursor: true,
      etaBuffer: 50,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const eta = etaClock();
  return {
    setLabel,
    batch(p) {
      const payload = {
        label: opts.label,
        epoch: p.epoch,
        epochs: p.epochs,
        loss: fmt(p.loss),
        etaText: eta((p.epoch - 1) * p.batches + p.batch, p.epochs * p.batches),
      };
      if (!started) {
        bar.start(p.batches, p.batch, payload);
        started = true;
      }
      if (bar.getTotal() !== p.batches) bar.setTotal(p.batches);
      bar.update(p.batch, payload);
    },
    epoch(r, epochs) {
      if (started) bar.stop();
      started = false;
      process.stderr.write(`${opts.label}  ${epochLine(r, epochs)}\n`);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
