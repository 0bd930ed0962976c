import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { Api, errors as gramErrors } from 'telegram';
import { RPCMessageToError } from 'telegram/errors';
import { ChannelInaccessibleError, FloodWaitError, FloodWaitTooLongError, InvalidTokenError, MessageNotFoundError, NoThumbnailError, NotADocumentError, TelegramConnectionError, TelegramRpcError } from '../src/telegram/errors';
import { toTgvfsError } from '../src/telegram/gramjs/translate-error';
import { TgvfsError } from '../src/util/errors';
import { parseBotId } from '../src/telegram/bot-token';
import { redactToken, registerSecret, registerToken, scrubSecrets } from '../src/util/secrets';

const getFile = new Api.upload.GetFile({ offset: undefined, limit: 4096 });

/** What GramJS's MTProtoSender builds from an rpc_error answer. */
function rpc(message: string, code: number, request: Api.AnyRequest = getFile): unknown {
  return RPCMessageToError(new Api.RpcError({ errorCode: code, errorMessage: message }), request);
}

test('translation table', () => {
  const ctx = { worker: 42, channel: -1001234567890, msgId: 7 };
  const cases: Array<[unknown, new (...a: never[]) => TgvfsError, string]> = [
    [rpc('LIMIT_INVALID', 400), TelegramRpcError, 'LIMIT_INVALID'],
    [rpc('OFFSET_INVALID', 400), TelegramRpcError, 'OFFSET_INVALID'],
    [rpc('FILE_REFERENCE_EXPIRED', 400), TelegramRpcError, 'FILE_REFERENCE_EXPIRED'],
    [rpc('AUTH_KEY_UNREGISTERED', 401), TelegramRpcError, 'AUTH_KEY_UNREGISTERED'],
    [rpc('BOT_METHOD_INVALID', 400, new Api.messages.GetHistory({})), TelegramRpcError, 'BOT_METHOD_INVALID'],
    [rpc('FILE_MIGRATE_4', 303), TelegramRpcError, 'FILE_MIGRATE_4'],
    [rpc('USER_MIGRATE_2', 303), TelegramRpcError, 'USER_MIGRATE_2'],
    [rpc('FLOOD_WAIT_17', 420), FloodWaitError, 'FLOOD_WAIT'],
    [rpc('FLOOD_PREMIUM_WAIT_3', 420), FloodWaitError, 'FLOOD_WAIT'],
    [rpc('CHANNEL_PRIVATE', 400), ChannelInaccessibleError, 'CHANNEL_INACCESSIBLE'],
    [rpc('CHANNEL_INVALID', 400), ChannelInaccessibleError, 'CHANNEL_INACCESSIBLE'],
    [rpc('MESSAGE_ID_INVALID', 400), MessageNotFoundError, 'MESSAGE_NOT_FOUND'],
    [new Error('TIMEOUT'), TelegramConnectionError, 'CONNECTION'],
    [new Error('Cannot send requests while disconnected. You need to call .connect()'), TelegramConnectionError, 'CONNECTION'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.2:443'), { code: 'ECONNREFUSED' }), TelegramConnectionError, 'CONNECTION'],
    ['Maximum reconnection retries reached. Aborting!', TelegramConnectionError, 'CONNECTION'],
    [new TypeError('boom'), TgvfsError, 'UNEXPECTED'],
  ];
  for (const [input, cls, code] of cases) {
    const out = toTgvfsError(input, ctx);
    assert.ok(out instanceof cls, `${String(input)} → ${out.constructor.name}, expected ${cls.name}`);
    assert.ok(out instanceof TgvfsError);
    assert.ok(out instanceof Error);
    assert.equal(out.code, code, String(input));
    assert.deepEqual(out.context, ctx);
    assert.equal(out.name, cls.name);
  }
});

test('RPC details: rpcCode, method, waitSeconds', () => {
  const limit = toTgvfsError(rpc('LIMIT_INVALID', 400));
  assert.ok(limit instanceof TelegramRpcError);
  assert.equal(limit.rpcCode, 400);
  assert.equal(limit.method, 'upload.getFile');
  assert.match(limit.message, /upload\.getFile.*LIMIT_INVALID/);

  const flood = toTgvfsError(rpc('FLOOD_WAIT_17', 420), { worker: 5 });
  assert.ok(flood instanceof FloodWaitError);
  assert.ok(flood instanceof TelegramRpcError);
  assert.equal(flood.waitSeconds, 17);
  assert.equal(flood.rpcCode, 420);
  assert.equal(flood.context.worker, 5);
  assert.match(flood.message, /17 s/);

  const history = toTgvfsError(rpc('BOT_METHOD_INVALID', 400, new Api.messages.GetHistory({})));
  assert.ok(history instanceof TelegramRpcError);
  assert.equal(history.method, 'messages.getHistory');

  const explicit = toTgvfsError(rpc('LIMIT_INVALID', 400), { method: 'upload.getFile' });
  assert.ok(explicit instanceof TelegramRpcError);
  assert.equal(explicit.method, 'upload.getFile');
  assert.deepEqual(explicit.context, {});

  const gramFlood = new gramErrors.FloodWaitError({ request: getFile, capture: 9 });
  const f = toTgvfsError(gramFlood);
  assert.ok(f instanceof FloodWaitError);
  assert.equal(f.waitSeconds, 9);
});

test('a TgvfsError passes through unchanged', () => {
  const e = new NotADocumentError({ channel: -1001, msgId: 3 });
  assert.equal(toTgvfsError(e, { worker: 1 }), e);
});

test('error classes carry code and data', () => {
  const tooLong = new FloodWaitTooLongError(3000, 77, { channel: -1005 });
  assert.equal(tooLong.code, 'FLOOD_WAIT_TOO_LONG');
  assert.equal(tooLong.waitSeconds, 3000);
  assert.equal(tooLong.worker, 77);
  assert.deepEqual(tooLong.context, { channel: -1005, worker: 77 });
  assert.equal(new NoThumbnailError({ msgId: 1 }).code, 'NO_THUMBNAIL');
  assert.equal(new MessageNotFoundError().code, 'MESSAGE_NOT_FOUND');
  assert.equal(new NotADocumentError().code, 'NOT_A_DOCUMENT');
  assert.equal(new ChannelInaccessibleError('CHANNEL_PRIVATE').code, 'CHANNEL_INACCESSIBLE');
  assert.match(String(new NotADocumentError({ channel: -1001, msgId: 3 }).stack), /^NotADocumentError: /);
});

test('redactToken hides the secret', () => {
  const token = '123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
  assert.equal(redactToken(token), '123456:***');
  assert.equal(redactToken('nonsense'), '***');
  assert.equal(redactToken(':abc'), '***');
  assert.ok(!redactToken(token).includes('AAHdq'));
});

test('InvalidTokenError names the bot, never the secret', () => {
  const secret = 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
  const e = new InvalidTokenError(123456, 'ACCESS_TOKEN_INVALID');
  assert.equal(e.message, 'bot 123456 (token 123456:***) was refused: ACCESS_TOKEN_INVALID');
  assert.equal(e.code, 'INVALID_TOKEN');
  assert.equal(e.botId, 123456);
  for (const text of [e.message, String(e.stack), inspect(e), JSON.stringify(e)]) assert.ok(!text.includes(secret));

  assert.throws(() => parseBotId(`123456:${secret}`.replace(':', '')), (err: unknown) => {
    assert.ok(err instanceof InvalidTokenError);
    assert.ok(!err.message.includes(secret.slice(4)), err.message);
    return true;
  });
  assert.throws(() => parseBotId(`77:short`), (err: unknown) => {
    assert.ok(err instanceof InvalidTokenError);
    assert.equal(err.botId, 77);
    assert.ok(!err.message.includes('short'));
    return true;
  });
  assert.equal(parseBotId(`123456:${secret}`), 123456);
});

test('ACCESS_TOKEN_INVALID from auth.importBotAuthorization becomes InvalidTokenError', () => {
  const err = rpc('ACCESS_TOKEN_INVALID', 400, new Api.auth.ImportBotAuthorization({ botAuthToken: 'x' }));
  const out = toTgvfsError(err, { worker: 99 });
  assert.ok(out instanceof InvalidTokenError);
  assert.equal(out.message, 'bot 99 (token 99:***) was refused: ACCESS_TOKEN_INVALID');
});

test('registered secrets never reach an error message or stack', () => {
  const token = '424242:ZZsecretZZsecretZZsecret';
  const apiHash = '0123456789abcdef0123456789abcdef';
  registerToken(token);
  registerSecret(apiHash);
  assert.equal(scrubSecrets(`token ${token} hash ${apiHash}`), 'token *** hash ***');
  const e = toTgvfsError(new Error(`weird failure with ${token} and ${apiHash}`), { worker: 424242 });
  for (const text of [e.message, String(e.stack)]) {
    assert.ok(!text.includes('ZZsecretZZsecretZZsecret'), text);
    assert.ok(!text.includes(apiHash), text);
  }
});
