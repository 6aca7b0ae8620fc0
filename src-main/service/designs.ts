// Saved designs (the designer's block stacks) in the `designs` table (schema v2, store/migrations.ts). The service is their only
// writer; RunStore knows nothing about them, so this module talks to the store's connection directly.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Design, DesignBlock } from '../../shared/api.js';
import { FIXED_ACTIVATIONS, PARAMLESS_ACTIVATIONS } from '../../shared/activations.js';
import { BOUNDS_MODES } from '../../shared/vocab.js';
import { formatIssues, type NetworkSpecInput } from '../../shared/spec.js';
import type { Queryable } from '../store/db.js';
import { ServiceError } from './errors.js';

const MAX_NESTING = 8;
const num = z.number({ error: 'must be a number' });

// Shape only, not ranges: a half-finished design may be saved; the designer shows its field issues inline.
const Block: z.ZodType<DesignBlock> = z.lazy(() =>
  z.discriminatedUnion(
    'kind',
    [
      z.object({ kind: z.literal('dense'), width: num }),
      z.object({ kind: z.literal('batchnorm') }),
      z.object({
        kind: z.literal('bernstein'),
        degree: num,
        eps: num,
        bounds: z.tuple([num, num]),
        boundsMode: z.enum(BOUNDS_MODES),
      }),
      z.object({ kind: z.literal('leaky_relu'), alpha: num }),
      ...PARAMLESS_ACTIVATIONS.map((kind) => z.object({ kind: z.literal(kind) })),
      z.object({ kind: z.literal('residual') }),
      z.object({ kind: z.literal('repeat'), times: num, blocks: z.array(Block).max(1000) }),
    ],
    {
      error: `kind must be one of ${['dense', 'batchnorm', 'bernstein', ...FIXED_ACTIVATIONS, 'residual', 'repeat'].join(', ')}`,
    },
  ),
);

function nesting(blocks: DesignBlock[]): number {
  return blocks.reduce((m, b) => Math.max(m, b.kind === 'repeat' ? 1 + nesting(b.blocks) : 0), 0);
}

export function parseBlocks(input: unknown[]): DesignBlock[] {
  const r = z.array(Block).safeParse(input);
  if (!r.success)
    throw new ServiceError(
      'bad-request',
      `design blocks: ${formatIssues(r.error)
        .map((m) => `blocks.${m}`)
        .join('; ')}`,
    );
  if (nesting(r.data) > MAX_NESTING)
    throw new ServiceError('bad-request', `design blocks: repeat groups nest more than ${MAX_NESTING} deep`);
  return r.data;
}

interface DesignRow {
  id: string;
  name: string;
  blocks_json: string;
  training_json: string;
  created_at: number;
  updated_at: number;
}

function toDesign(r: DesignRow): Design {
  return {
    id: r.id,
    name: r.name,
    blocks: JSON.parse(r.blocks_json) as DesignBlock[],
    training: JSON.parse(r.training_json) as Partial<NetworkSpecInput>,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

export async function listDesigns(q: Queryable): Promise<Design[]> {
  return (await q.all<DesignRow>('SELECT * FROM designs ORDER BY updated_at DESC, id')).map(toDesign);
}

export async function getDesign(q: Queryable, id: string): Promise<Design> {
  const row = await q.get<DesignRow>('SELECT * FROM designs WHERE id = ?', [id]);
  if (!row) throw new ServiceError('not-found', `no design with id ${id}`);
  return toDesign(row);
}

/** Creates (no id) or replaces (id of an existing design) a design. */
export async function saveDesign(
  q: Queryable,
  d: { id?: string; name: string; blocks: unknown[]; training: Record<string, unknown> },
): Promise<Design> {
  const blocks = parseBlocks(d.blocks);
  const name = d.name.trim();
  if (!name) throw new ServiceError('bad-request', 'a design needs a name');
  const now = Date.now();
  if (d.id !== undefined) {
    const r = await q.run(
      'UPDATE designs SET name = ?, blocks_json = ?, training_json = ?, updated_at = ? WHERE id = ?',
      [name, JSON.stringify(blocks), JSON.stringify(d.training), now, d.id],
    );
    if (r.changes === 0) throw new ServiceError('not-found', `no design with id ${d.id}`);
    return getDesign(q, d.id);
  }
  const id = `g${randomBytes(5).toString('hex')}`;
  await q.run(
    'INSERT INTO designs (id, name, blocks_json, training_json, created_at, updated_at) VALUES (?,?,?,?,?,?)',
    [id, name, JSON.stringify(blocks), JSON.stringify(d.training), now, now],
  );
  return getDesign(q, id);
}

export async function removeDesign(q: Queryable, id: string): Promise<void> {
  const r = await q.run('DELETE FROM designs WHERE id = ?', [id]);
  if (r.changes === 0) throw new ServiceError('not-found', `no design with id ${id}`);
}
