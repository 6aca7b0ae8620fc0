// The design file users export and import (`*.design.json`): what the designer writes and how it reads one back.
import type { DesignBlock } from '../../shared/api.js';
import type { NetworkSpecInput } from '../../shared/spec.js';

export interface DesignContent {
  name: string;
  blocks: DesignBlock[];
  training: Partial<NetworkSpecInput>;
}

export const DESIGN_FILE_FORMAT = 'deepbern-design';

/** The file name and JSON text of a design export. */
export function designFile(d: DesignContent): { fileName: string; text: string } {
  const body = { format: DESIGN_FILE_FORMAT, version: 1, name: d.name, blocks: d.blocks, training: d.training };
  return {
    fileName: `${d.name.replace(/[^\w.-]+/g, '_') || 'design'}.design.json`,
    text: JSON.stringify(body, null, 2),
  };
}

/**
 * A design file's content; the name falls back to the file's name. Throws an Error saying what is wrong when the
 * text is not JSON or has no blocks (the field-level checks are the designer's own, shown in place).
 */
export function parseDesignFile(text: string, fileName: string): DesignContent {
  const o = JSON.parse(text) as { name?: unknown; blocks?: unknown; training?: unknown } | null;
  if (!o || !Array.isArray(o.blocks))
    throw new Error('no "blocks" array — is this a design file exported from the designer?');
  return {
    name: typeof o.name === 'string' ? o.name : fileName.replace(/\.json$/i, ''),
    blocks: o.blocks as DesignBlock[],
    training: (o.training ?? {}) as Partial<NetworkSpecInput>,
  };
}
