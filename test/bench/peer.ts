// Runs the PyTorch peer (../shared/bench/peer_torch.py, relative to the repo root) with the same settings.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetSpec } from './nets.js';

const PYTHON = '/usr/bin/python3';

/** The repo root: the nearest ancestor of this file holding package.json (works from src and from dist). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the bench');
    dir = up;
  }
  return dir;
}

export function peerScript(): string {
  return resolve(repoRoot(), '../shared/bench/peer_torch.py');
}

export function torchAvailable(): boolean {
  if (!existsSync(peerScript())) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

function args(spec: NetSpec): string[] {
  return [
    '--depth', String(spec.depth), '--width', String(spec.width), '--degree', String(spec.degree),
    '--eps', String(spec.eps), '--l', String(spec.l), '--u', String(spec.u), '--batch', String(spec.batch),
    '--inputs', String(spec.inputs), '--outputs', String(spec.outputs), '--act', spec.act,
  ];
}

export interface PeerResult {
  stepsPerSec: number;
  params: number;
  version: string;
}

/** Steps/s from the peer script itself, and its parameter count from the same build() with the same args. */
export function runPeer(spec: NetSpec, steps: number, threads: number): PeerResult {
  const script = peerScript();
  const a = [...args(spec), '--steps', String(steps), ...(threads > 0 ? ['--threads', String(threads)] : [])];
  const out = execFileSync(PYTHON, [script, ...a], { encoding: 'utf8', timeout: 600_000 });
  const m = /steps\/s\s+([\d.]+)/.exec(out);
  const v = /^torch\s+(\S+)/m.exec(out);
  if (!m) throw new Error(`unexpected peer output: ${out}`);
  const count = execFileSync(PYTHON, ['-c', [
    'import sys, argparse',
    `sys.path.insert(0, ${JSON.stringify(dirname(script))})`,
    'import peer_torch as p',
    `ns = argparse.Namespace(**${JSON.stringify(Object.fromEntries([
      ['depth', spec.depth], ['width', spec.width], ['degree', spec.degree], ['eps', spec.eps], ['l', spec.l],
      ['u', spec.u], ['inputs', spec.inputs], ['outputs', spec.outputs], ['act', spec.act],
    ]))})`,
    'print(sum(t.numel() for t in p.build(ns).parameters()))',
  ].join('\n')], { encoding: 'utf8', timeout: 120_000 });
  return { stepsPerSec: Number(m[1]), params: Number(count.trim()), version: v?.[1] ?? '?' };
}
