#!/usr/bin/env node
// The CLI is compiled TypeScript in dist/; `npm run build` (or `npm ci`, via prepare) makes it.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('airlock: dist/ is missing: run `npm run build` in the airlock folder first\n');
  process.exit(2);
}
await import(main.href);
