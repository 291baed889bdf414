// The baseline: a fastify route returning a fixed JSON body over the same TLS setup as the FHIR server.
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';

const [certPath, keyPath, caPath, size] = process.argv.slice(2);
const body = JSON.stringify({ resourceType: 'Patient', id: 'x', text: 'x'.repeat(Math.max(0, Number(size) - 60)) });
const app = Fastify({ https: { cert: readFileSync(certPath!), key: readFileSync(keyPath!), ca: readFileSync(caPath!), requestCert: true, rejectUnauthorized: false } });
app.get('/fixed', async (_req, reply) => reply.header('content-type', 'application/fhir+json').send(body));
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
process.stdout.write(`PORT ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
