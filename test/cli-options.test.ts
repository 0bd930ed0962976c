import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  UsageError,
  parseFloodWait,
  parseIntInRange,
  parseListen,
  parseLogLevel,
  parseNonNegativeInt,
  parsePositiveInt,
} from '../src/cli/options';

/** Asserts that fn throws a UsageError whose one-line message names `flag` and `fragment`. */
function usage(fn: () => unknown, flag: string, fragment?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.ok(err.message.startsWith(flag), `message should start with ${flag}: ${err.message}`);
    assert.ok(!err.message.includes('\n'), 'message is one line');
    if (fragment !== undefined) assert.ok(err.message.includes(fragment), `message should include ${fragment}: ${err.message}`);
    return true;
  });
}

test('parseListen accepts host:port', () => {
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListen('localhost:65535'), { host: 'localhost', port: 65535 });
  assert.deepEqual(parseListen('0.0.0.0:1'), { host: '0.0.0.0', port: 1 });
  assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 });
  assert.deepEqual(parseListen(' 127.0.0.1:80 '), { host: '127.0.0.1', port: 80 });
});

test('parseListen rejects malformed addresses, naming the flag', () => {
  for (const bad of ['', '8080', '127.0.0.1', '127.0.0.1:', ':8080', '127.0.0.1:65536', '127.0.0.1:-1',
    '127.0.0.1:80x', '127.0.0.1:8.5', '::1:8080', '[::1]8080', '[::1]:', '[]:80', '[abc]:80', 'a b:80', '127.0.0.1: 80']) {
    usage(() => parseListen(bad), '--listen', JSON.stringify(bad));
  }
  usage(() => parseListen('x', '--admin'), '--admin', 'HOST:PORT');
});

test('parsePositiveInt accepts positive decimal integers', () => {
  assert.equal(parsePositiveInt('1', '--bots'), 1);
  assert.equal(parsePositiveInt('42', '--bots'), 42);
  assert.equal(parsePositiveInt('007', '--bots'), 7);
  assert.equal(parsePositiveInt(' 3 ', '--bots'), 3);
});

test('parsePositiveInt rejects zero, negatives, fractions, junk', () => {
  for (const bad of ['0', '-1', '1.5', '1e3', '0x10', '', ' ', 'two', '3abc', '+3', '99999999999999999999']) {
    usage(() => parsePositiveInt(bad, '--bots'), '--bots', 'positive integer');
  }
  usage(() => parsePositiveInt('x', '--bots'), '--bots', 'got "x"');
});

test('parseNonNegativeInt accepts 0 and rejects junk', () => {
  assert.equal(parseNonNegativeInt('0', '--latency'), 0);
  assert.equal(parseNonNegativeInt('250', '--latency'), 250);
  assert.equal(parseNonNegativeInt('10485760', '--bandwidth'), 10485760);
  for (const bad of ['-1', '1.5', '', 'fast', '10MB']) {
    usage(() => parseNonNegativeInt(bad, '--bandwidth'), '--bandwidth', 'non-negative integer');
  }
});

test('parseIntInRange checks bounds', () => {
  assert.equal(parseIntInRange('1', '--file-dc', 1, 5), 1);
  assert.equal(parseIntInRange('5', '--file-dc', 1, 5), 5);
  for (const bad of ['0', '6', '-2', 'dc2', '']) usage(() => parseIntInRange(bad, '--file-dc', 1, 5), '--file-dc', 'from 1 to 5');
});

test('parseFloodWait accepts EVERY:SECONDS', () => {
  assert.deepEqual(parseFloodWait('10:3'), { every: 10, seconds: 3 });
  assert.deepEqual(parseFloodWait('1:1'), { every: 1, seconds: 1 });
  assert.deepEqual(parseFloodWait(' 5:60 '), { every: 5, seconds: 60 });
});

test('parseFloodWait rejects anything else', () => {
  for (const bad of ['x', '', '10', '10:', ':3', '0:3', '10:0', '10:3:1', '-1:3', '10:-3', '1.5:3', '10 : 3', 'a:b']) {
    usage(() => parseFloodWait(bad), '--flood-wait', 'EVERY:SECONDS');
  }
  usage(() => parseFloodWait('x'), '--flood-wait', 'got "x"');
});

test('parseLogLevel accepts the pino levels in any case and names the flag otherwise', () => {
  assert.equal(parseLogLevel('debug'), 'debug');
  assert.equal(parseLogLevel(' WARN '), 'warn');
  assert.equal(parseLogLevel('silent'), 'silent');
  assert.throws(() => parseLogLevel('loud'), (err: unknown) => err instanceof UsageError
    && err.message === '--log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"');
  assert.throws(() => parseLogLevel('', 'TGVFS_LOG_LEVEL'), /^UsageError: TGVFS_LOG_LEVEL must be one of/);
});
