// A minimal SOCKS5 server (RFC 1928 CONNECT, RFC 1929 username/password) for proxy tests.
// It records every destination it was asked to connect to.
import net from 'node:net';

export interface Socks5Server {
  port: number;
  /** Destinations of successful CONNECTs, in order. */
  destinations: Array<{ host: string; port: number }>;
  /** Authentication attempts with wrong credentials. */
  refused: number;
  close(): Promise<void>;
}

interface Reader {
  /** Exactly n bytes. */
  read(n: number): Promise<Buffer>;
  /** Stops reading; returns what was read ahead, which belongs to the next consumer. */
  detach(): Buffer;
}

function reader(socket: net.Socket): Reader {
  let buffered = Buffer.alloc(0);
  let waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  const pump = (): void => {
    if (waiting && buffered.length >= waiting.n) {
      const out = buffered.subarray(0, waiting.n);
      buffered = buffered.subarray(waiting.n);
      const w = waiting;
      waiting = undefined;
      w.resolve(out);
    }
  };
  const onData = (d: Buffer): void => {
    buffered = Buffer.concat([buffered, d]);
    pump();
  };
  socket.on('data', onData);
  socket.on('close', () => waiting?.reject(new Error('closed')));
  const read = (n: number): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      waiting = { n, resolve, reject };
      pump();
    });
  const detach = (): Buffer => {
    socket.off('data', onData);
    return buffered;
  };
  return { read, detach };
}

export async function startSocks5Server(auth?: { username: string; password: string }): Promise<Socks5Server> {
  const sockets = new Set<net.Socket>();
  const state: Socks5Server = { port: 0, destinations: [], refused: 0, close: async () => undefined };

  const handle = async (client: net.Socket): Promise<void> => {
    const r = reader(client);
    const read = r.read;
    const [ver, nMethods] = await read(2);
    if (ver !== 5) throw new Error('not SOCKS5');
    const methods = [...(await read(nMethods ?? 0))];
    const wanted = auth ? 2 : 0;
    if (!methods.includes(wanted)) {
      client.end(Buffer.from([5, 0xff]));
      return;
    }
    client.write(Buffer.from([5, wanted]));
    if (auth) {
      const [, ulen] = await read(2);
      const user = (await read(ulen ?? 0)).toString();
      const [plen] = await read(1);
      const pass = (await read(plen ?? 0)).toString();
      if (user !== auth.username || pass !== auth.password) {
        state.refused++;
        client.end(Buffer.from([1, 1]));
        return;
      }
      client.write(Buffer.from([1, 0]));
    }
    const [, cmd, , atyp] = await read(4);
    let host: string;
    if (atyp === 1) host = [...(await read(4))].join('.');
    else if (atyp === 3) host = (await read((await read(1))[0] ?? 0)).toString();
    else if (atyp === 4) host = (await read(16)).toString('hex').match(/.{4}/g)!.join(':');
    else throw new Error(`bad address type ${atyp}`);
    const port = (await read(2)).readUInt16BE(0);
    if (cmd !== 1) {
      client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
      return;
    }
    const upstream = net.connect(port, host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    await new Promise<void>((resolve, reject) => {
      upstream.once('connect', resolve);
      upstream.once('error', reject);
    });
    state.destinations.push({ host, port });
    const early = r.detach();
    client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
    if (early.length) upstream.write(early);
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  };

  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    handle(client).catch(() => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no address');
  state.port = addr.port;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}
