// Runs s3rver in its own process, for the S3 tests. Started with node's
// --openssl-legacy-provider: without it s3rver on Node 20 answers HTTP 500 to every listing that
// needs a continuation token (it encrypts the token with a cipher OpenSSL 3 retired), so a
// listing past 1,000 keys could never be tested. Prints {"port": N} on stdout once listening;
// stops when its stdin closes (the test process died or closed it) or on SIGTERM.
import S3rver from 's3rver';

const [directory] = process.argv.slice(2);
const server = new S3rver({
  port: 0,
  address: '127.0.0.1',
  silent: true,
  directory,
  configureBuckets: [{ name: 'packages', configs: [] }],
});
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.close();
  process.exit(0);
}
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
