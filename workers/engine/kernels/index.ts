// Fast engine kernels (DESIGN §2.3): fused Bernstein / batch-norm kernels, transpose-explicit dense, fused Adam.
export { fastOps, pickOps } from './fast-ops.js';
export { registerFastKernels, FAST_BACKENDS } from './register.js';
export { registerDenseKernel } from './dense.js';
export { FusedAdam, fusedTrainerAdam, type AdamConfig, type AdamState } from './fused-adam.js';
export type { TrainerOptimizer } from '../optimizer.js';
export { effectiveCoefficientsFast } from './coeffs.js';
