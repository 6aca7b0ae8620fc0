// `node --import ./register.mjs dist/src-main/electron/main.js`: runs the real Electron main module under plain
// Node with `electron` resolved to the recording stand-in beside this file (test/electron-main.test.ts).
import { register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url));
