// Registers tfjs-core's gradient functions (needed by autodiff: variableGrads, grads, customGrad callers).
// tfjs-core's Node entry does not do it; see scripts/vendor-tfjs-gradients.mjs for why this is vendored.
// Import for its side effect before taking any gradient; backend.ts does so for everyone.
import './vendor/tfjs-gradients.generated.js';
