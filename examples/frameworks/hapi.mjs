// tcpinfo in a hapi app: attach() to server.listener, hapi's node:http server, before server.start().
//   npm install (here, once)   node hapi.mjs   then: curl http://127.0.0.1:3000/  and  tail -F tcpinfo.log
import Hapi from '@hapi/hapi';
import { attach } from 'tcpinfo';

const server = Hapi.server({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
server.route({ method: 'GET', path: '/', handler: () => 'hello from hapi\n' });

const tcpinfo = attach(server.listener, '--hooks=ssn_start,txn_close --log-level=2');
// server.stop() waits for the requests in flight; then every line is written out.
server.ext('onPostStop', () => tcpinfo.close());
await server.start();
console.log(`listening on ${server.info.uri}/, logging to ${tcpinfo.options.logFile}`);
process.once('SIGINT', () => server.stop());
