// tcpinfo as a Fastify plugin: every route of the app, fastify.close() writes the log out.
//   node examples/fastify.mjs        then: curl http://127.0.0.1:3000/  and  tail -F tcpinfo.log
import Fastify from 'fastify';
import tcpinfo from 'tcpinfo/fastify';

const app = Fastify();
await app.register(tcpinfo, { options: { hooks: ['ssn_start', 'txn_close'], logLevel: 2 } });
app.get('/', async () => 'hello\n');

await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on http://127.0.0.1:${app.server.address().port}/`);
process.once('SIGINT', () => app.close());
