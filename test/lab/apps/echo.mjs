// The lab's application: a tiny httpbin-like server (GET /headers echoes the
// request headers and the peer address the app saw), plain HTTP or HTTPS.
//   node echo.mjs --port 8080 [--bind 0.0.0.0] [--tls CERT,KEY] [--keepalive-ms N] [--status N]
// --status answers every request with that status: an ext_authz provider that denies (403) or allows (200).
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { port: { type: 'string' }, bind: { type: 'string', default: '0.0.0.0' }, tls: { type: 'string' }, 'keepalive-ms': { type: 'string' }, status: { type: 'string', default: '200' } },
});
const handler = (req, res) => {
  const body = JSON.stringify({ headers: req.headers, peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`, path: req.url }, null, 2);
  res.writeHead(Number(values.status), { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
const server = values.tls
  ? https.createServer({ cert: fs.readFileSync(values.tls.split(',')[0]), key: fs.readFileSync(values.tls.split(',')[1]) }, handler)
  : http.createServer(handler);
if (values['keepalive-ms']) server.keepAliveTimeout = Number(values['keepalive-ms']);
server.listen(Number(values.port), values.bind, () => process.stdout.write(`listening on ${values.bind}:${values.port}\n`));
process.on('SIGTERM', () => process.exit(0));
