// The designer's block palette: every block kind a design can hold, grouped, with a one-line hint.
import type { DesignBlock } from '../../shared/api.js';
import { FIXED_ACTIVATION_TABLE, FIXED_ACTIVATIONS } from '../../shared/activations.js';

export interface PaletteItem {
  kind: DesignBlock['kind'];
  hint: string;
  group: 'Layers' | 'Activations';
}

export const PALETTE: PaletteItem[] = [
  { kind: 'dense', hint: 'Linear layer W·x + b', group: 'Layers' },
  { kind: 'batchnorm', hint: 'Normalise pre-activations (no affine)', group: 'Layers' },
  { kind: 'residual', hint: 'Identity skip around the hidden block', group: 'Layers' },
  { kind: 'repeat', hint: 'Repeat a block group × depth', group: 'Layers' },
  { kind: 'bernstein', hint: 'Learnable Bernstein polynomial, δ̄ floor', group: 'Activations' },
  ...FIXED_ACTIVATIONS.map((kind) => ({
    kind,
    hint: FIXED_ACTIVATION_TABLE[kind].hint,
    group: 'Activations' as const,
  })),
];
export const PALETTE_GROUPS = ['Layers', 'Activations'] as const;

/** Test ids and CSS use dashes: `leaky_relu` → `palette-leaky-relu`. */
export const paletteId = (kind: DesignBlock['kind']): string => kind.replace(/_/g, '-');

export const paletteHint = (kind: DesignBlock['kind']): string | undefined =>
  PALETTE.find((p) => p.kind === kind)?.hint;
