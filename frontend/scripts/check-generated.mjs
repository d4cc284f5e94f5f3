// Fails when src/api/schema.d.ts is not what `npm run generate` would write from
// ../openapi/openapi.json now. Generates into a temporary file; never touches the committed one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const spec = path.resolve(root, '..', 'openapi', 'openapi.json');
const committed = path.join(root, 'src', 'api', 'schema.d.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-schema-'));
const fresh = path.join(dir, 'schema.d.ts');
const hint = 'run npm --prefix frontend run generate';

try {
  const bin = path.join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
  const result = spawnSync(process.execPath, [bin, spec, '-o', fresh], { encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(result.stderr || result.stdout);
    console.error(`check:generated: openapi-typescript failed on ${spec}`);
    process.exit(2);
  }
  let current;
  try {
    current = readFileSync(committed, 'utf8');
  } catch {
    console.error(`check:generated: ${path.relative(root, committed)} is missing: ${hint}`);
    process.exit(1);
  }
  const expected = readFileSync(fresh, 'utf8');
  if (current !== expected) {
    const a = current.split('\n');
    const b = expected.split('\n');
    let line = 0;
    while (line < a.length && line < b.length && a[line] === b[line]) line += 1;
    console.error(
      `check:generated: ${path.relative(root, committed)} is out of date with ${path.relative(root, spec)} ` +
        `(first difference at line ${line + 1}):\n` +
        `  committed: ${JSON.stringify(a[line] ?? '<end of file>')}\n` +
        `  expected:  ${JSON.stringify(b[line] ?? '<end of file>')}\n` +
        `${hint}`,
    );
    process.exit(1);
  }
  console.log('check:generated: src/api/schema.d.ts is up to date');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
