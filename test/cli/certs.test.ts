// `dsf certs` and generateCertificates: files, modes, thumbprints, idempotence, and that the
// generated organisation certificates work together over real TLS.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { Command } from 'commander';
import { generateCertificates, registerCertsCommand, type CertificateSet } from '../../src/cli/certs.ts';
import { parseCertificatePem, thumbprintSha512, verifyChain } from '../../src/common/x509.ts';

const root = mkdtempSync(join(tmpdir(), 'dsf-certs-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

function allFiles(set: CertificateSet) {
  const files = [set.ca];
  for (const org of Object.values(set.organizations)) files.push(org.server, org.client);
  files.push(...Object.values(set.users));
  return files;
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

test('generateCertificates writes a CA, per-organisation server and client pairs and user pairs', async () => {
  const dir = join(root, 'fresh');
  const set = await generateCertificates({ dir, organizations: ['dic1.test', 'ttp.test'], users: [{ name: 'alice', email: 'alice@dic1.test' }] });

  assert.equal(set.dir, dir);
  assert.equal(set.ca.certPath, join(dir, 'ca.crt'));
  assert.equal(set.ca.keyPath, join(dir, 'ca.key'));
  assert.equal(set.organizations['dic1.test']!.server.certPath, join(dir, 'dic1.test', 'server.crt'));
  assert.equal(set.organizations['dic1.test']!.client.keyPath, join(dir, 'dic1.test', 'client.key'));
  assert.equal(set.users['alice']!.certPath, join(dir, 'users', 'alice.crt'));
  assert.equal(set.users['alice']!.keyPath, join(dir, 'users', 'alice.key'));

  const caPem = readFileSync(set.ca.certPath, 'utf8');
  for (const files of allFiles(set)) {
    assert.equal(files.created, true);
    assert.equal(mode(files.keyPath), 0o600, files.keyPath);
    assert.equal(mode(files.certPath) & 0o077, 0o044, files.certPath);
    assert.equal(files.thumbprint, thumbprintSha512(readFileSync(files.certPath)));
    assert.equal(verifyChain(readFileSync(files.certPath, 'utf8'), [caPem]), true, files.certPath);
  }

  const client = new X509Certificate(readFileSync(set.organizations['ttp.test']!.client.certPath));
  assert.equal(parseCertificatePem(client.toString()).commonName, 'ttp.test');
  assert.equal(client.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), true);
  const server = new X509Certificate(readFileSync(set.organizations['ttp.test']!.server.certPath));
  assert.equal(server.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1');
  assert.equal(server.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), true);
  assert.equal(parseCertificatePem(readFileSync(set.users['alice']!.certPath, 'utf8')).email, 'alice@dic1.test');
  // Two organisations, two different identities.
  assert.notEqual(set.organizations['dic1.test']!.client.thumbprint, set.organizations['ttp.test']!.client.thumbprint);
});

test('running again keeps every file, and only replaces what no longer fits', async () => {
  const dir = join(root, 'again');
  const first = await generateCertificates({ dir, organizations: ['a'], users: [{ name: 'bob', email: 'bob@a.test' }] });
  const contents = allFiles(first).map((f) => readFileSync(f.certPath, 'utf8') + readFileSync(f.keyPath, 'utf8'));

  const second = await generateCertificates({ dir, organizations: ['a'], users: [{ name: 'bob', email: 'bob@a.test' }] });
  assert.deepEqual(allFiles(second).map((f) => f.created), [false, false, false, false]);
  assert.deepEqual(allFiles(second).map((f) => f.thumbprint), allFiles(first).map((f) => f.thumbprint));
  assert.deepEqual(allFiles(second).map((f) => readFileSync(f.certPath, 'utf8') + readFileSync(f.keyPath, 'utf8')), contents);

  // A new host name: only the server certificate changes; a new organisation is added beside.
  const third = await generateCertificates({ dir, organizations: ['a', 'b'], hostnames: ['localhost', '127.0.0.1', '::1', 'fhir.a.test'] });
  assert.equal(third.ca.created, false);
  assert.equal(third.organizations['a']!.server.created, true);
  assert.equal(third.organizations['a']!.client.created, false);
  assert.equal(third.organizations['a']!.client.thumbprint, first.organizations['a']!.client.thumbprint);
  assert.equal(third.organizations['b']!.client.created, true);
  assert.equal(
    new X509Certificate(readFileSync(third.organizations['a']!.server.certPath)).subjectAltName,
    'DNS:localhost, DNS:fhir.a.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
  );
  // IPv6 is printed differently by Node than given; the pair must still count as fitting.
  const fourth = await generateCertificates({ dir, organizations: ['a'], hostnames: ['localhost', '127.0.0.1', '::1', 'fhir.a.test'] });
  assert.equal(fourth.organizations['a']!.server.created, false);

  // A lost key: that pair alone is replaced.
  unlinkSync(third.organizations['b']!.client.keyPath);
  const fifth = await generateCertificates({ dir, organizations: ['b'] });
  assert.equal(fifth.organizations['b']!.client.created, true);
  assert.notEqual(fifth.organizations['b']!.client.thumbprint, third.organizations['b']!.client.thumbprint);
  assert.equal(fifth.organizations['b']!.server.created, false);

  // A key that belongs to another certificate is not kept either.
  writeFileSync(fifth.organizations['b']!.server.keyPath, readFileSync(fifth.organizations['b']!.client.keyPath));
  const sixth = await generateCertificates({ dir, organizations: ['b'] });
  assert.equal(sixth.organizations['b']!.server.created, true);
  assert.equal(mode(sixth.organizations['b']!.server.keyPath), 0o600);
});

test('an incomplete CA or unsafe names are refused without writing anything', async () => {
  const dir = join(root, 'half');
  const set = await generateCertificates({ dir, organizations: ['x'] });
  unlinkSync(set.ca.keyPath);
  await assert.rejects(generateCertificates({ dir, organizations: ['x', 'y'] }), /found only one of/);
  assert.equal(existsSync(join(dir, 'y')), false);

  const bad = join(root, 'bad');
  await assert.rejects(
    generateCertificates({ dir: bad, organizations: ['../escape', 'ok'], users: [{ name: 'u', email: 'not-an-address' }], hostnames: ['bad host'] }),
    (e: Error) => /\.\.\/escape/.test(e.message) && /not-an-address/.test(e.message) && /bad host/.test(e.message),
  );
  assert.equal(existsSync(bad), false);
});

test('the generated server and client certificates authenticate each other over TLS', async () => {
  const set = await generateCertificates({ dir: join(root, 'tls'), organizations: ['site1', 'site2'] });
  const ca = readFileSync(set.ca.certPath);
  const site1 = set.organizations['site1']!;
  const site2 = set.organizations['site2']!;
  const server = createServer(
    { key: readFileSync(site1.server.keyPath), cert: readFileSync(site1.server.certPath), ca: [ca], requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerX509Certificate();
      res.end(peer ? thumbprintSha512(peer.raw) : 'none');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const seen = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, servername: 'localhost', ca, cert: readFileSync(site2.client.certPath), key: readFileSync(site2.client.keyPath), agent: false, timeout: 5000 },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(seen, site2.client.thumbprint);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('the certs command writes the files and prints paths and thumbprints', async () => {
  const dir = join(root, 'cli');
  const printed: string[] = [];
  // Output goes through commander's setting, so the test runner's own stdout stays untouched.
  const program = new Command().name('dsf').exitOverride().configureOutput({ writeOut: (text) => printed.push(text) });
  registerCertsCommand(program);
  await program.parseAsync(['certs', '--dir', dir, '--org', 'org1', 'org2', '--user', 'carol:carol@org1.test', '--host', 'localhost', 'fhir.test'], { from: 'user' });
  const output = printed.join('');
  for (const path of ['ca.crt', 'ca.key', 'org1/server.crt', 'org1/server.key', 'org2/client.crt', 'org2/client.key', 'users/carol.crt', 'users/carol.key']) {
    assert.ok(existsSync(join(dir, path)), path);
  }
  assert.ok(output.includes(join(dir, 'org2', 'client.crt')), output);
  assert.ok(output.includes(thumbprintSha512(readFileSync(join(dir, 'org2', 'client.crt')))), output);
  assert.match(output, /user carol <carol@org1\.test>: created/);
  assert.equal(new X509Certificate(readFileSync(join(dir, 'org1', 'server.crt'))).subjectAltName, 'DNS:localhost, DNS:fhir.test');
  assert.equal(parseCertificatePem(readFileSync(join(dir, 'users', 'carol.crt'), 'utf8')).email, 'carol@org1.test');

  const again = new Command().name('dsf').exitOverride().configureOutput({ writeOut: (text) => printed.push(text) });
  registerCertsCommand(again);
  await assert.rejects(again.parseAsync(['certs', '--dir', dir, '--org', 'org1', '--user', 'nocolon'], { from: 'user' }), /name:email/);
});
