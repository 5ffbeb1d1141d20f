// Copies the data files tsc does not emit (driver manifests) next to the compiled drivers,
// so the driver index finds manifest.json beside each compiled entry in dist/.
import { cpSync, readdirSync, statSync, existsSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
for (const top of ['samples', 'containers', 'twin-drivers']) {
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name === 'manifest.json') {
        const out = join(root, 'dist', p.slice(root.length + 1));
        mkdirSync(dirname(out), { recursive: true });
        cpSync(p, out);
      }
    }
  };
  walk(join(root, top));
}
