// `node --import` this to append every module URL the process resolves to the file named by
// DSF_TEST_LOADED_MODULES_FILE, one a line (a test reads which parts of the code a command loaded).
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
      import { appendFileSync } from 'node:fs';
      const file = process.env.DSF_TEST_LOADED_MODULES_FILE;
      export async function resolve(specifier, context, next) {
        const result = await next(specifier, context);
        if (file) appendFileSync(file, result.url + '\\n');
        return result;
      }
    `),
);
