// The gradient certificate of a stored Bernstein run: per layer and epoch, the floor proven from the learned
// coefficients (layer metric learned_floor) beside the observed min |σ'| and the clamped fraction.
import {
  checkCertificate,
  DEFAULT_CERT_TOLERANCE,
  type CertificateInput,
  type CertificateTolerance,
  type GradientCertificate,
} from '../../shared/paper.js';
import type { RunStore } from '../store/run-store.js';
import { StoreError } from '../store/errors.js';

const METRICS = ['learned_floor', 'min_dsigma', 'clipped_frac'] as const;

/** Reads the run's layer metrics and checks them; a non-Bernstein run is an 'invalid' StoreError. */
export async function buildCertificate(
  store: RunStore,
  runId: string,
  tol: CertificateTolerance = DEFAULT_CERT_TOLERANCE,
): Promise<GradientCertificate> {
  const run = await store.getRun(runId);
  if (run.spec.activation !== 'bernstein') {
    throw new StoreError(
      `run ${runId} (${run.label}) is not a Bernstein run: the gradient certificate applies to Bernstein activations only`,
      'invalid',
    );
  }
  const points: CertificateInput['points'] = [];
  for (const metric of METRICS) {
    for (const p of await store.layerMetrics(runId, { metric }))
      points.push({ layer: p.layer, epoch: p.epoch, metric, value: p.value });
  }
  return checkCertificate(
    {
      runId,
      label: run.label,
      degree: run.spec.degree,
      eps: run.spec.eps,
      bounds: run.spec.bounds,
      boundsMode: run.spec.boundsMode,
      points,
    },
    tol,
  );
}
