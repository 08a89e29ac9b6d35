// tcpinfo as Express middleware: it attaches to the server on the first request it sees.
//   node examples/express.mjs        then: curl http://127.0.0.1:3000/  and  tail -F tcpinfo.log
import express from 'express';
import tcpinfo from 'tcpinfo/express';

const app = express();
const tcpinfoMiddleware = tcpinfo('--hooks=ssn_start,txn_close --log-level=2');
app.use(tcpinfoMiddleware);
app.get('/', (req, res) => res.send('hello\n'));

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/, logging to ${tcpinfoMiddleware.options.logFile}`);
});
process.once('SIGINT', () => {
  server.close();
  server.closeAllConnections();
  tcpinfoMiddleware.close();
});
