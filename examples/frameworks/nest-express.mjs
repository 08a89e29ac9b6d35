// tcpinfo in a NestJS app on its Express adapter (the default one): attach() to app.getHttpServer(), which
// NestFactory.create() has made, before app.listen().
//   npm install (here, once)   node nest-express.mjs   then: curl http://127.0.0.1:3000/  and  tail -F tcpinfo.log
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { attach } from 'tcpinfo';
import { AppModule } from './nest-app.mjs';

const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: ['error', 'warn'] });
const tcpinfo = attach(app.getHttpServer(), '--hooks=ssn_start,txn_close --log-level=2');
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
console.log(`listening on http://127.0.0.1:${app.getHttpServer().address().port}/, logging to ${tcpinfo.options.logFile}`);
process.once('SIGINT', async () => {
  await app.close();
  await tcpinfo.close();
});
