// tcpinfo on a node:http server: attach() before listen.
//   node examples/plain-http.mjs     then: curl http://127.0.0.1:3000/  and  tail -F tcpinfo.log
import http from 'node:http';
import { attach } from 'tcpinfo';

const server = http.createServer((req, res) => res.end('hello\n'));
const tcpinfo = attach(server, '--hooks=ssn_start,txn_start,send_resp_hdr,txn_close');

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/, logging to ${tcpinfo.options.logFile}`);
});
process.once('SIGINT', () => {
  server.close();
  server.closeAllConnections();
  tcpinfo.close(); // writes out every queued line
});
