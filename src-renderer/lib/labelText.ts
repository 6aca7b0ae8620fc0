// Activation labels as people read them: Bern_{9,0.01}[-5,5] → Bern with "9,0.01" subscripted, then [−5,5]
// (a real minus). Works inside longer text (run names carry their label).
export interface LabelPart {
  text: string;
  sub?: boolean;
}

// Name_{…} or Name_token (LReLU_0.01, SELU_BN, ReLU_res), as shared/spec.ts activationLabel writes them.
const PATTERN = /([A-Za-z][A-Za-z0-9]*)_(\{[^}]*\}|[A-Za-z0-9.]+)/g;
const minus = (s: string) => s.replace(/(^|[[,(\s])-(?=\d)/g, '$1−');

export function labelParts(text: string): LabelPart[] {
  const out: LabelPart[] = [];
  let last = 0;
  for (const m of text.matchAll(PATTERN)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ text: minus(text.slice(last, at)) });
    out.push({ text: m[1]! });
    out.push({ text: m[2]!.replace(/^\{|\}$/g, ''), sub: true });
    last = at + m[0].length;
  }
  if (last < text.length) out.push({ text: minus(text.slice(last)) });
  return out;
}

/** Plain text with Unicode minus signs (for canvas and file names, where there are no subscripts). */
export function plainLabel(text: string): string {
  return labelParts(text)
    .map((p) => (p.sub ? `_${p.text}` : p.text))
    .join('');
}
