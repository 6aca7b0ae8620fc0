#!/usr/bin/env node
// Renders build/icon.svg to the PNG set electron-builder packages: build/icons/<N>x<N>.png (Linux, hicolor
// sizes) and build/icon.png (1024 px: electron-builder derives the macOS .icns and the Windows .ico from it).
// The PNGs are committed, so packaging needs no SVG renderer; rerun this after changing the SVG.
// Needs `rsvg-convert` (Debian/Ubuntu: apt-get install librsvg2-bin; macOS: brew install librsvg).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const build = join(dirname(dirname(fileURLToPath(import.meta.url))), 'build');
const svg = join(build, 'icon.svg');
export const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];

function render(size, out) {
  execFileSync('rsvg-convert', ['-w', String(size), '-h', String(size), '-o', out, svg], { stdio: 'inherit' });
}

mkdirSync(join(build, 'icons'), { recursive: true });
for (const s of LINUX_SIZES) render(s, join(build, 'icons', `${s}x${s}.png`));
render(1024, join(build, 'icon.png'));
console.log(`icons: ${LINUX_SIZES.length} Linux sizes + icon.png (1024) from ${svg}`);
