// Loopback ports for servers a test or bench starts as child processes (tgvfs serve, redis).
import net from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the kernel gave it out and it was released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
