// Entry point of the child process that builds the compact definitions cache: `definitions-cache-build.ts <dir>`.
import { buildDefinitionsCache } from './definitions-cache.ts';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: definitions-cache-build.ts <cache folder>\n');
  process.exit(2);
}
buildDefinitionsCache(dir);
