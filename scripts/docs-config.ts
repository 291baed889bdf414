// Writes docs/configuration.md from the servers' tables of variables (npm run docs:config).
import { writeFileSync } from 'node:fs';
import { configurationDoc } from '../src/cli/configuration-doc.ts';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationDoc());
console.log('docs/configuration.md written');
