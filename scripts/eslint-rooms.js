// ESLint rule `rooms/downward-only`: the project's four rooms import downward only (docs/develop.md).
//   src-renderer → shared;  src-main → workers → shared;  shared → shared;  test → anything.
// Relative imports are resolved against the importing file, so `../../shared/x.js` and `../shared/x.js`
// are judged by where they land, not by how they are spelled. Bare imports are checked per room too:
// shared stays pure (no Node, Electron, DOM framework or tfjs), the renderer gets no Node or Electron.
import { builtinModules } from 'node:module';
import path from 'node:path';

const ROOMS = ['shared', 'workers', 'src-main', 'src-renderer', 'test'];
/** Which rooms each room may import from (relative imports). */
const MAY_IMPORT = {
  shared: ['shared'],
  workers: ['workers', 'shared'],
  'src-main': ['src-main', 'workers', 'shared'],
  'src-renderer': ['src-renderer', 'shared'],
  test: ROOMS,
};
const NODE = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isNode = (s) => s.startsWith('node:') || NODE.has(s) || NODE.has(s.split('/')[0]);
/** Bare (package) imports a room must not use, with the reason shown to the developer. */
const BANNED_PACKAGES = {
  shared: [
    [isNode, 'shared/ is pure TypeScript: no Node modules'],
    [(s) => s === 'electron' || s.startsWith('electron/'), 'shared/ cannot import Electron'],
    [(s) => s === 'vue' || s.startsWith('@vue/'), 'shared/ cannot import Vue'],
    [(s) => s.startsWith('@tensorflow/'), 'shared/ cannot import tfjs (the engine lives in workers/)'],
  ],
  'src-renderer': [
    [isNode, 'the renderer runs in a browser: no Node modules (ask the API contract instead)'],
    [
      (s) => s === 'electron' || s.startsWith('electron/'),
      'the renderer cannot import Electron (it talks to the API contract)',
    ],
    [(s) => s.startsWith('@tensorflow/'), 'the renderer cannot import the engine'],
  ],
  workers: [[(s) => s === 'electron' || s === 'vue', 'workers/ cannot import Electron or Vue']],
  'src-main': [[(s) => s === 'vue' || s.startsWith('@vue/'), 'src-main/ cannot import Vue']],
};

function roomOf(root, file) {
  const rel = path.relative(root, file).split(path.sep);
  return ROOMS.includes(rel[0]) ? rel[0] : null;
}

/** @type {import('eslint').Rule.RuleModule} */
const downwardOnly = {
  meta: {
    type: 'problem',
    docs: { description: 'imports point downward only: renderer → shared; src-main → workers → shared' },
    schema: [],
    messages: {
      upward:
        '{{from}}/ may not import from {{to}}/ ({{spec}}): imports point downward only — {{from}} may import {{allowed}}.',
      outside: '{{from}}/ imports {{spec}}, which is outside the four rooms.',
      banned: '{{reason}} ({{spec}}).',
    },
  },
  create(context) {
    const root = context.cwd;
    const file = context.filename;
    const from = roomOf(root, file);
    if (!from) return {};
    const check = (node) => {
      if (!node || node.type !== 'Literal' || typeof node.value !== 'string') return;
      const spec = node.value;
      if (spec.startsWith('.') || spec.startsWith('/')) {
        const target = path.resolve(path.dirname(file), spec);
        const to = roomOf(root, target);
        if (to === null) {
          if (from !== 'test') context.report({ node, messageId: 'outside', data: { from, spec } });
          return;
        }
        if (!MAY_IMPORT[from].includes(to)) {
          context.report({ node, messageId: 'upward', data: { from, to, spec, allowed: MAY_IMPORT[from].join(', ') } });
        }
        return;
      }
      for (const [banned, reason] of BANNED_PACKAGES[from] ?? []) {
        if (banned(spec)) context.report({ node, messageId: 'banned', data: { reason, spec } });
      }
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
    };
  },
};

export default { meta: { name: 'rooms' }, rules: { 'downward-only': downwardOnly } };
