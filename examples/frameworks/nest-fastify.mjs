// tcpinfo in a NestJS app on its Fastify adapter: the tcpinfo/fastify plugin, registered through the app
// before app.listen(); app.close() closes Fastify, which writes the log out.
//   npm install (here, once)   node nest-fastify.mjs   then: curl http://127.0.0.1:3000/  and  tail -F tcpinfo.log
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import tcpinfo from 'tcpinfo/fastify';
import { AppModule } from './nest-app.mjs';

const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
await app.register(tcpinfo, { options: '--hooks=ssn_start,txn_close --log-level=2' });
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
// The plugin's handle, on the Fastify instance: stats(), close(), options.
const handle = app.getHttpAdapter().getInstance().tcpinfo;
console.log(`listening on http://127.0.0.1:${app.getHttpServer().address().port}/, logging to ${handle.options.logFile}`);
process.once('SIGINT', () => app.close());
