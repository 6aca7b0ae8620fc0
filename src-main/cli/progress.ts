// Training progress: a live bar on a TTY (epoch, batch, loss, ETA), plain lines otherwise (logs, CI, pipes).
import cliProgress from 'cli-progress';
import type { EpochReport } from '../../shared/metrics.js';
import { fmt } from './output.js';

export interface ProgressSink {
  batch(p: { epoch: number; epochs: number; batch: number; batches: number; loss: number }): void;
  epoch(report: EpochReport, epochs: number): void;
  stop(): void;
}

export function epochLine(r: EpochReport, epochs: number): string {
  const m = r.metrics;
  const parts = [`epoch ${r.epoch}/${epochs}`, `train_loss ${fmt(m.train_loss)}`, `test_loss ${fmt(m.test_loss)}`];
  if (m.test_acc !== undefined) parts.push(`test_acc ${fmt(m.test_acc)}`);
  // Both dead readings (docs/metrics.md): the paper's epoch average over the training batches, the eval batch.
  if (m.dead_ratio_epoch !== undefined) parts.push(`dead_epoch ${fmt(m.dead_ratio_epoch)}`);
  parts.push(`dead_eval ${fmt(m.dead_ratio)}`, `mag1 ${fmt(m.mag1)}`, `${fmt(m.epoch_time_s)}s`);
  return parts.join('  ');
}

export function createProgress(opts: { json: boolean; label: string }): ProgressSink {
  const tty = process.stderr.isTTY === true && !opts.json;
  if (!tty) {
    return {
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
      format: `${opts.label} epoch {epoch}/{epochs} |{bar}| batch {value}/{total}  loss {loss}  ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    batch(p) {
      if (!started) {
        bar.start(p.batches, p.batch, { epoch: p.epoch, epochs: p.epochs, loss: fmt(p.loss) });
        started = true;
      }
      if (bar.getTotal() !== p.batches) bar.setTotal(p.batches);
      bar.update(p.batch, { epoch: p.epoch, epochs: p.epochs, loss: fmt(p.loss) });
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
