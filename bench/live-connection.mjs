// A TCP connection over loopback that has carried traffic, for reading TCP_INFO of a live socket.
import { once } from 'node:events';
import net from 'node:net';

const TIMEOUT_MS = 2000;

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * { socket (the accepted, server side), client, serverPort, clientPort, echo(bytes), close() }.
 * The server side echoes what the client sends; `echo(bytes)` resolves when some of it is back.
 */
export async function liveConnection() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), 'listen');
  const accepted = once(server, 'connection');
  const client = net.connect(server.address().port, '127.0.0.1');
  const [socket] = await within(accepted, 'accept');
  socket.on('data', (d) => socket.write(d));
  const conn = {
    socket,
    client,
    serverPort: server.address().port,
    clientPort: client.localPort,
    echo: (bytes) => {
      const back = once(client, 'data');
      client.write(Buffer.alloc(bytes, 120));
      return within(back, 'echo');
    },
    close() {
      client.destroy();
      socket.destroy();
      server.close();
    },
  };
  await conn.echo(4);
  return conn;
}
