#!/usr/bin/python3
# Telethon (Debian's python3-telethon, layer 144) as a user would drive it against one emulator,
# for test/clients-telethon.test.ts. Configured through Telethon's public API only: the published
# key with telethon.crypto.rsa.add_key, the home DC's address with session.set_dc. Nothing in
# Telethon is patched.
#
# The plan (JSON on stdin) names the DC, key, credentials, channel, ids to list and downloads.
# Each step prints one JSON line on stdout, {"step", "ok": true, "data"} or {"step", "ok": false,
# "error", "trace"}; the first failure ends the run (exit 1). Downloaded bytes go to files in the
# plan's out_dir, for the test to compare. Telethon's own log goes to stderr (DEBUG).
import asyncio
import json
import logging
import os
import sys
import time
import traceback

import telethon
from telethon import TelegramClient, functions, types
from telethon.crypto import rsa
from telethon.sessions import MemorySession


class StepFailed(Exception):
    pass


def emit(record):
    sys.stdout.write(json.dumps(record) + '\n')
    sys.stdout.flush()


class Deadlines:
    """Each step's own limit, within what is left of the run's total (the test's time budget)."""

    def __init__(self, limits):
        self.limits = limits
        self.end = time.monotonic() + limits['total']

    def of(self, kind):
        return max(0.001, min(self.limits[kind], self.end - time.monotonic()))


async def step(name, seconds, coro):
    """Runs one step within its deadline; prints its outcome; raises StepFailed on failure."""
    try:
        data = await asyncio.wait_for(coro, seconds)
    except BaseException as e:  # noqa: B902 - a timeout or any client error is the step's result
        if isinstance(e, asyncio.TimeoutError):
            error = 'no result within %s s' % seconds
        else:
            error = '%s: %s' % (type(e).__name__, e)
        emit({'step': name, 'ok': False, 'error': error, 'trace': traceback.format_exc(limit=8)[-3000:]})
        raise StepFailed(name) from e
    emit({'step': name, 'ok': True, 'data': data})
    return data


def document_of(message):
    media = message.media
    if not isinstance(media, types.MessageMediaDocument) or not isinstance(media.document, types.Document):
        raise ValueError('message %d holds no document: %r' % (message.id, media))
    return media.document


def save(out_dir, label, data):
    path = os.path.join(out_dir, label + '.bin')
    with open(path, 'wb') as f:
        f.write(data)
    return {'file': path, 'length': len(data)}


async def take_key(pem):
    rsa.add_key(pem, old=False)
    return {'telethon': telethon.__version__}


async def log_in(client, token):
    await client.connect()
    await client.sign_in(bot_token=token)
    me = await client.get_me()
    return {'id': me.id, 'bot': bool(me.bot)}


async def list_channel(client, channel_id, ids, posts):
    got = await client(functions.channels.GetChannelsRequest([types.InputChannel(channel_id, 0)]))
    channel = got.chats[0]
    messages = await client.get_messages(channel, ids=ids)
    listed, absent = [], []
    for wanted, m in zip(ids, messages):
        if m is None:
            absent.append(wanted)
            continue
        doc = document_of(m)
        posts[m.id] = m
        listed.append({'id': m.id, 'name': m.file.name, 'size': m.file.size, 'dcId': doc.dc_id})
    return {'listed': listed, 'absent': absent}


async def download_whole(client, posts, out_dir, msg_id):
    data = await client.download_media(posts[msg_id], file=bytes)
    return save(out_dir, 'whole-%d' % msg_id, data)


async def download_range(client, posts, out_dir, r):
    doc = document_of(posts[r['msgId']])
    if r['length'] is None:
        chunks = [bytes(c) async for c in client.iter_download(doc, offset=r['offset'], file_size=doc.size)]
        data = b''.join(chunks)
    else:
        data = b''
        async for chunk in client.iter_download(doc, offset=r['offset'], chunk_size=r['length'], limit=1, file_size=doc.size):
            data = bytes(chunk)
    return save(out_dir, 'range-%d-%d' % (r['msgId'], r['offset']), data)


async def download_at_home(client, posts, out_dir, msg_id):
    """A download with no DC given: Telethon asks its home DC and must follow FILE_MIGRATE."""
    doc = document_of(posts[msg_id])
    location = types.InputDocumentFileLocation(id=doc.id, access_hash=doc.access_hash, file_reference=doc.file_reference, thumb_size='')
    data = await client.download_file(location, file=bytes, file_size=doc.size)
    return save(out_dir, 'home-%d' % msg_id, data)


async def run(plan):
    dc, out = plan['dc'], plan['out_dir']
    limits = Deadlines(plan['seconds'])
    await step('take the published key', limits.of('key'), take_key(plan['rsa_public_key']))
    session = MemorySession()
    session.set_dc(dc['id'], dc['host'], dc['port'])
    client = TelegramClient(session, plan['api_id'], plan['api_hash'], connection_retries=1, retry_delay=0)
    posts = {}
    try:
        await step('log in with the bot token', limits.of('login'), log_in(client, plan['bot_token']))
        await step('list the channel', limits.of('list'), list_channel(client, plan['channel_id'], plan['list_ids'], posts))
        for d in plan['downloads']:
            name = d['step']
            if d['kind'] == 'whole':
                await step(name, limits.of('download'), download_whole(client, posts, out, d['msgId']))
            elif d['kind'] == 'range':
                await step(name, limits.of('download'), download_range(client, posts, out, d))
            else:
                await step(name, limits.of('download'), download_at_home(client, posts, out, d['msgId']))
    finally:
        try:
            await asyncio.wait_for(client.disconnect(), 5)
        except BaseException:  # noqa: B902 - the outcome is already printed; closing is best effort
            pass


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    plan = json.load(sys.stdin)
    try:
        asyncio.run(run(plan))
    except StepFailed:
        sys.exit(1)


if __name__ == '__main__':
    main()
