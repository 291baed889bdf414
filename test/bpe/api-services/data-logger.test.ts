// The data logger: off unless DEV_DSF_LOG_DATA_*_ENABLED says otherwise, the reference's line
// formats, the file log/bpe-data.log and its rolling to .log.gz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { dataLoggerConfigFromEnv } from '../../../src/bpe/api-services/data-logger/data-logger-config.ts';
import { createDataLogger } from '../../../src/bpe/api-services/data-logger/data-logger.ts';

const TIME = new Date(2025, 0, 2, 3, 4, 5, 6);
const PATIENT = { resourceType: 'Patient', name: [{ text: 'Test Patient' }] };

test('off by default: nothing written, isEnabled false', () => {
  const out: string[] = [];
  const logger = createDataLogger(dataLoggerConfigFromEnv({}), { stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
  assert.equal(logger.isEnabled(), false);
  logger.log('Test Patient', PATIENT);
  assert.deepEqual(out, []);
});

test('configuration errors are listed together; JSON styles of the reference we lack are named', () => {
  assert.throws(
    () => dataLoggerConfigFromEnv({ DEV_DSF_LOG_DATA_FILE_ENABLED: 'yes', DEV_DSF_LOG_DATA_CONSOLE_OUT_STYLE: 'JSON_GELF' }),
    (e: Error) => /DEV_DSF_LOG_DATA_FILE_ENABLED: expected true or false/.test(e.message) && /DEV_DSF_LOG_DATA_CONSOLE_OUT_STYLE: JSON_GELF is not supported here/.test(e.message),
  );
});

test('console out and err in the reference line formats', () => {
  const out: string[] = [];
  const err: string[] = [];
  const config = dataLoggerConfigFromEnv({
    DEV_DSF_LOG_DATA_CONSOLE_OUT_ENABLED: 'true',
    DEV_DSF_LOG_DATA_CONSOLE_ERR_ENABLED: 'TRUE',
    DEV_DSF_LOG_DATA_CONSOLE_ERR_STYLE: 'text_mdc',
  });
  const logger = createDataLogger(config, { now: () => TIME, stdout: (t) => out.push(t), stderr: (t) => err.push(t), context: () => ({ processUrl: 'http://test.com/bpe/Process/x|1.0' }) });
  assert.equal(logger.isEnabled(), true);
  logger.log('Test Patient', PATIENT);
  logger.log('Test Object', 'Test String Object');
  logger.log(null, 'ignored');
  logger.log('Nothing', undefined);
  assert.deepEqual(out, [
    '2025-01-02 03:04:05,006 Test Patient: {"resourceType":"Patient","name":[{"text":"Test Patient"}]}\n',
    '2025-01-02 03:04:05,006 Test Object: Test String Object\n',
    '2025-01-02 03:04:05,006 Nothing: null\n',
  ]);
  assert.equal(err[1], '2025-01-02 03:04:05,006 {processUrl=http://test.com/bpe/Process/x|1.0} Test Object: Test String Object\n');
});

test('JSON_ECS lines', () => {
  const out: string[] = [];
  const logger = createDataLogger(dataLoggerConfigFromEnv({ DEV_DSF_LOG_DATA_CONSOLE_OUT_ENABLED: 'true', DEV_DSF_LOG_DATA_CONSOLE_OUT_STYLE: 'JSON_ECS' }), {
    now: () => TIME,
    stdout: (t) => out.push(t),
  });
  logger.log('Test Object', 42);
  const line = JSON.parse(out[0]!);
  assert.equal(line.message, 'Test Object: 42');
  assert.equal(line['log.logger'], 'dsf-data-logger');
  assert.equal(line['@timestamp'], TIME.toISOString());
});

test('file log/bpe-data.log: appended, and a previous non-empty file rolled to bpe-data_<date>_1.log.gz at start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsf-data-log-'));
  try {
    writeFileSync(join(dir, 'bpe-data.log'), 'old line\n');
    const config = { ...dataLoggerConfigFromEnv({ DEV_DSF_LOG_DATA_FILE_ENABLED: 'true' }), directory: dir };
    const logger = createDataLogger(config, { now: () => TIME });
    logger.log('Test Patient', PATIENT);
    logger.log('second', 'line');
    await logger.close();
    assert.equal(
      readFileSync(join(dir, 'bpe-data.log'), 'utf8'),
      '2025-01-02 03:04:05,006 Test Patient: {"resourceType":"Patient","name":[{"text":"Test Patient"}]}\n2025-01-02 03:04:05,006 second: line\n',
    );
    const rolled = readdirSync(dir).filter((f) => f.endsWith('.log.gz'));
    assert.equal(rolled.length, 1);
    assert.match(rolled[0]!, /^bpe-data_\d{4}-\d{2}-\d{2}_1\.log\.gz$/);
    assert.equal(gunzipSync(readFileSync(join(dir, rolled[0]!))).toString(), 'old line\n');
    assert.equal(existsSync(join(dir, rolled[0]!.replace(/\.gz$/, ''))), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
