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

/** The peer script: $DEEPBERN_TORCH_PEER, else ../shared/bench/peer_torch.py beside the repo. */
export function peerScript(): string {
  return process.env.DEEPBERN_TORCH_PEER || resolve(repoRoot(), '../shared/bench/peer_torch.py');
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
    '--depth',
    String(spec.depth),
    '--width',
    String(spec.width),
    '--degree',
    String(spec.degree),
    '--eps',
    String(spec.eps),
    '--l',
    String(spec.l),
    '--u',
    String(spec.u),
    '--batch',
    String(spec.batch),
    '--inputs',
    String(spec.inputs),
    '--outputs',
    String(spec.outputs),
    '--act',
    spec.act,
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
  const count = execFileSync(
    PYTHON,
    [
      '-c',
      [
        'import sys, argparse',
        `sys.path.insert(0, ${JSON.stringify(dirname(script))})`,
        'import peer_torch as p',
        `ns = argparse.Namespace(**${JSON.stringify(
          Object.fromEntries([
            ['depth', spec.depth],
            ['width', spec.width],
            ['degree', spec.degree],
            ['eps', spec.eps],
            ['l', spec.l],
            ['u', spec.u],
            ['inputs', spec.inputs],
            ['outputs', spec.outputs],
            ['act', spec.act],
          ]),
        )})`,
        'print(sum(t.numel() for t in p.build(ns).parameters()))',
      ].join('\n'),
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return { stepsPerSec: Number(m[1]), params: Number(count.trim()), version: v?.[1] ?? '?' };
}

export interface TorchInfo {
  version: string;
  /** torch.get_num_threads(): torch's intra-op threads (its default: the physical cores cpuinfo reports). */
  threads: number;
  interopThreads: number;
  /** The BLAS shared objects loaded after a matmul (resolved paths), e.g. …/openblas-pthread/libblas.so.3. */
  blasLibraries: string[];
  /** openblas_get_config() and openblas_get_num_threads() when the BLAS is OpenBLAS (its own thread pool). */
  openblasConfig: string | null;
  openblasThreads: number | null;
  /** BLAS_INFO from torch.__config__.show() (how torch was built to call BLAS). */
  blasInfo: string | null;
}

/** What PyTorch runs on: its thread counts and the BLAS library actually loaded (default settings). */
export function torchInfo(): TorchInfo {
  const out = execFileSync(
    PYTHON,
    [
      '-c',
      [
        'import json, os, re, ctypes, torch',
        'a = torch.randn(64, 64); a @ a',
        "libs = sorted({os.path.realpath(l.split()[-1]) for l in open('/proc/self/maps') if re.search('blas|lapack|mkl', l.split()[-1].lower())})",
        'cfg = nthreads = None',
        'for p in libs:',
        '    try:',
        '        lib = ctypes.CDLL(p); f = lib.openblas_get_config; f.restype = ctypes.c_char_p',
        '        cfg = f().decode(); nthreads = lib.openblas_get_num_threads(); break',
        '    except (OSError, AttributeError): pass',
        "m = re.search(r'BLAS_INFO=([^,\\s]+)', torch.__config__.show())",
        'print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(), "interopThreads": torch.get_num_interop_threads(),',
        '  "blasLibraries": libs, "openblasConfig": cfg, "openblasThreads": nthreads, "blasInfo": m.group(1) if m else None}))',
      ].join('\n'),
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as TorchInfo;
}

/** One peer process as a user launches it: wall seconds including Python start-up and `import torch`. */
export function runPeerTimed(spec: NetSpec, steps: number, threads: number): { seconds: number; stepsPerSec: number } {
  const a = [...args(spec), '--steps', String(steps), ...(threads > 0 ? ['--threads', String(threads)] : [])];
  const t0 = performance.now();
  const out = execFileSync(PYTHON, [peerScript(), ...a], { encoding: 'utf8', timeout: 1_800_000 });
  const seconds = (performance.now() - t0) / 1000;
  const m = /steps\/s\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`unexpected peer output: ${out}`);
  return { seconds, stepsPerSec: Number(m[1]) };
}
