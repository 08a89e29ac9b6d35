// callgrind.sh's client: `warm` requests on `conns` keep-alive connections, says WARM and waits for a line
// on stdin; `n` more requests on the same connections, says DONE and waits; then asks the server to exit.
import http from 'node:http';
import { createInterface } from 'node:readline';

const [port, warm, n, conns] = process.argv.slice(2, 6).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
function get(path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
  });
}
async function phase(count) {
  let left = count;
  await Promise.all(Array.from({ length: conns }, async () => {
    while (left-- > 0) await get('/');
  }));
}
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
await phase(warm);
console.log('WARM');
await lines.next();
await phase(n);
console.log('DONE');
await lines.next();
await get('/exit').catch(() => {});
agent.destroy();
process.exit(0);
