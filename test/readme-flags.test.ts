/**
 * The README's flag tables are written for readers (their "meaning" column says more than
 * --help), but every name, environment variable and default in them comes from the flag
 * declarations: this fails when a flag is declared and not documented, documented and not
 * declared, or documented with another environment variable or default.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { shownDefault } from '../src/core/flags.js';
import { TSSERVE_FLAGS } from '../src/tsserve-flags.js';
import { repoPath } from './helpers/server.js';

interface Row {
  env: string[];
  default: string;
}

/** The rows `| `--flag` | `ENV`, `ENV2` | `default` ... | meaning |` of every flag table. */
function readmeRows(): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const line of readFileSync(repoPath('README.md'), 'utf8').split('\n')) {
    const m = /^\| `--(\w+)` \|([^|]*)\|([^|]*)\|/.exec(line);
    if (!m) continue;
    const env = [...m[2]!.matchAll(/`(\w+)`/g)].map((e) => e[1]!);
    const cell = m[3]!.trim();
    rows.set(m[1]!, { env, default: /^`([^`]*)`/.exec(cell)?.[1] ?? cell });
  }
  return rows;
}

describe('README flag tables', () => {
  const rows = readmeRows();

  it('document every declared flag, and only those', () => {
    assert.deepEqual([...rows.keys()].sort(), TSSERVE_FLAGS.map((f) => f.name).sort());
  });

  for (const flag of TSSERVE_FLAGS) {
    it(`--${flag.name}: the declared environment variables and default`, () => {
      const row = rows.get(flag.name);
      assert.ok(row, `README has no row for --${flag.name}`);
      assert.deepEqual([...row.env].sort(), [...flag.env].sort());
      assert.equal(row.default, shownDefault(flag));
    });
  }
});
