// The server callgrind.sh counts: a hello-world handler, bare or with the plugin (argv[2]: options or 'bare').
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { attach } from '../../dist/index.js';

const options = process.argv[2];
const server = http.createServer((req, res) => {
  if (req.url === '/exit') {
    res.end('bye');
    setTimeout(() => process.exit(0), 50).unref();
    return;
  }
  res.setHeader('content-type', 'text/plain');
  res.end('hello world\n');
});
if (options !== 'bare') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-callgrind-'));
  attach(server, `${options} --log-dir=${dir} --log-file=callgrind.log`);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}
server.listen(0, '127.0.0.1', () => console.log(`PORT ${server.address().port}`));
