// An app with no tcpinfo in it. The preload adds it, configured from the environment:
//   TCPINFO_OPTIONS='--hooks=ssn_start,txn_close -l 2' node --import tcpinfo/register examples/preload-app.mjs
//   TCPINFO_CONFIG=plugin.config.example node --import tcpinfo/register examples/preload-app.mjs
// Ctrl-C: the preload writes the log out, then the process ends as it would have.
import http from 'node:http';

const server = http.createServer((req, res) => res.end('hello\n'));
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});
