// Usage: node lint.mjs openapi.json
// Prints swagger-parser's verdict and `redocly lint`'s report (its recommended rules); exits 1 when either finds an error.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';

const file = process.argv[2];
if (!file) {
  console.error('usage: node lint.mjs openapi.json');
  process.exit(2);
}
let failed = false;
try {
  await SwaggerParser.validate(file);
  console.log('swagger-parser: valid');
} catch (e) {
  console.log(`swagger-parser: ${e.message}`);
  failed = true;
}
const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve('@redocly/cli/package.json')), 'bin', 'cli.js');
const lint = spawnSync(process.execPath, [cli, 'lint', file], {
  encoding: 'utf8',
  // No usage telemetry or update checks: the tests run offline.
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
});
console.log(`redocly lint (exit ${lint.status}):\n${lint.stdout}${lint.stderr}`);
if (lint.status !== 0) failed = true;
process.exit(failed ? 1 : 0);
