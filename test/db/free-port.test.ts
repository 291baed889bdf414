// Ports for test and demo servers come from below the kernel's range for outgoing connections' local
// ports, so a busy run's client connections cannot take one before its server binds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { freePort } from '../../src/db/embedded.ts';

const RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';

test('freePort: a bindable port below the outgoing-connection range (and the demo offsets below it too)', { skip: !existsSync(RANGE_FILE) && 'no ip_local_port_range here' }, async () => {
  const low = Number(readFileSync(RANGE_FILE, 'utf8').trim().split(/\s+/)[0]);
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    assert.ok(port >= 15_000 && port + 4_000 < low, `port ${port} outside [15000, ${low - 4_000})`);
    ports.add(port);
  }
  assert.ok(ports.size > 15, 'random, not one fixed port');
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
});
