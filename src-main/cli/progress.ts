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
  if (m.dead_ratio_epoch !== undefined) parts.push(`dead_epoch ${formatMetric('dead_ratio_epoch', m.dead_ratio_epoch)}`);
  parts.push(`dead_eval ${formatMetric('dead_ratio', m.dead_ratio)}`, `mag1 ${fmt(m.mag1)}`, `${fmt(m.epoch_time_s)}s`);
  return parts.join('  ');
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
      format: `{label} epoch {epoch}/{epochs} |{bar}| batch {value}/{total}  loss {loss}  ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    setLabel,
    batch(p) {
      if (!started) {
        bar.start(p.batches, p.batch, { label: opts.label, epoch: p.epoch, epochs: p.epochs, loss: fmt(p.loss) });
        started = true;
      }
      if (bar.getTotal() !== p.batches) bar.setTotal(p.batches);
      bar.update(p.batch, { label: opts.label, epoch: p.epoch, epochs: p.epochs, loss: fmt(p.loss) });
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
