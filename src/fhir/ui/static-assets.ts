// The pages' own style sheet and script, served by the site itself under <base>/static/ (no build
// step, nothing from elsewhere). They hold no data, so they are served without authentication.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = { css: 'text/css;charset=UTF-8', js: 'text/javascript;charset=UTF-8' };
const FILES = ['ui.css', 'ui.js'];

/** Path (below the base path) of the static files. */
export const STATIC_PATH = '/static/';

/** The style sheet is shared with the BPE's pages (src/common/web); the script is the FHIR pages' own. */
function load(name: string): Buffer {
  return readFileSync(fileURLToPath(name === 'ui.css' ? new URL('../../common/web/ui.css', import.meta.url) : new URL(`./static/${name}`, import.meta.url)));
}

/** Registers GET <prefix>/static/<file> for the shipped files. */
export function registerStaticAssets(app: FastifyInstance): void {
  for (const name of FILES) {
    const body = load(name);
    app.get(`${STATIC_PATH}${name}`, async (_req, reply) =>
      reply
        .header('content-type', TYPES[name.split('.').pop()!]!)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(body),
    );
  }
}

/** True for a request URL of a static file below the base path (no identity needed). */
export function isStaticAssetUrl(url: string, basePath: string): boolean {
  return url.startsWith(`${basePath}${STATIC_PATH}`) && FILES.includes(url.slice(basePath.length + STATIC_PATH.length).split('?')[0]!);
}
