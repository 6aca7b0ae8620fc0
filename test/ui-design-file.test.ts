import { describe, expect, it } from 'vitest';
import { designFile, parseDesignFile } from '../src-renderer/lib/designFile.js';

describe('design files', () => {
  it('round-trips a design through export and import', () => {
    const d = { name: 'Bern 100×20 / v2', blocks: [{ kind: 'dense' as const, width: 3 }], training: { epochs: 4 } };
    const f = designFile(d);
    expect(f.fileName).toBe('Bern_100_20_v2.design.json');
    expect(JSON.parse(f.text)).toMatchObject({ format: 'deepbern-design', version: 1 });
    expect(parseDesignFile(f.text, f.fileName)).toEqual(d);
  });

  it('names a nameless file after the file; refuses what is not a design with a message', () => {
    expect(parseDesignFile('{"blocks":[]}', 'mine.json').name).toBe('mine');
    expect(() => parseDesignFile('{"layers":[]}', 'x.json')).toThrow(/no "blocks" array/);
    expect(() => parseDesignFile('null', 'x.json')).toThrow(/no "blocks" array/);
    expect(() => parseDesignFile('{', 'x.json')).toThrow(SyntaxError);
  });
});
