// Fast engine kernels (DESIGN §2.3): fused Bernstein / batch-norm kernels, transpose-explicit dense, fused Adam.
export { fastOps, pickOps } from './fast-ops.js';
export { registerFastKernels, FAST_BACKENDS } from './register.js';
export { registerDenseKernel } from './dense.js';
export { FusedAdam, fusedTrainerAdam, type AdamConfig, type AdamState, type TrainerOptimizer } from './fused-adam.js';
export { effectiveCoefficientsFast } from './coeffs.js';
