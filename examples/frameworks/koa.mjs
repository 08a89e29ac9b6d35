// tcpinfo in a Koa app: attach() to the node:http server Koa's callback runs in, before it listens.
//   npm install (here, once)   node koa.mjs   then: curl http://127.0.0.1:3000/  and  tail -F tcpinfo.log
import http from 'node:http';
import Koa from 'koa';
import { attach } from 'tcpinfo';

const app = new Koa();
app.use((ctx) => {
  ctx.body = 'hello from Koa\n';
});

// app.listen() would make the server inside: make it here, to attach before any connection.
const server = http.createServer(app.callback());
const tcpinfo = attach(server, '--hooks=ssn_start,txn_close --log-level=2');
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/, logging to ${tcpinfo.options.logFile}`);
});
process.once('SIGINT', () => {
  server.close();
  tcpinfo.close();
});
