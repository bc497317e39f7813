// Drives ragkv with node-redis v4 (RESP2), node-redis v5 (RESP3: HELLO 3 on
// connect) and ioredis v5 (RESP2), and exits non-zero on the first mismatch.
// Usage: node node_clients.js <port>
'use strict';
const assert = require('assert/strict');
const { createClient } = require('redis');
const Redis = require('ioredis');
const redis5 = require('redis-v5');

const port = Number(process.argv[2]);

async function nodeRedis() {
  const client = createClient({ socket: { host: '127.0.0.1', port, connectTimeout: 5000 } });
  client.on('error', (e) => { console.error('node-redis error', e); process.exit(2); });
  await client.connect();
  assert.equal(await client.ping(), 'PONG');
  assert.equal(await client.set('nr:k', 'v', { EX: 100 }), 'OK');
  assert.equal(await client.get('nr:k'), 'v');
  assert.equal(await client.ttl('nr:k'), 100);
  assert.equal(await client.incrBy('nr:n', 5), 5);
  assert.equal(await client.hSet('nr:h', { a: '1', b: '2' }), 2);
  assert.deepEqual({ ...(await client.hGetAll('nr:h')) }, { a: '1', b: '2' });
  assert.equal(await client.zAdd('nr:z', [{ score: 1, value: 'a' }, { score: 2.5, value: 'b' }]), 2);
  assert.deepEqual(await client.zRangeWithScores('nr:z', 0, -1),
                   [{ value: 'a', score: 1 }, { value: 'b', score: 2.5 }]);
  assert.equal(await client.zScore('nr:z', 'b'), 2.5);
  const [setReply, getReply] = await client.multi().set('nr:t', '1').get('nr:t').exec();
  assert.equal(setReply, 'OK');
  assert.equal(getReply, '1');
  const blob = Buffer.from([0, 1, 2, 255, 13, 10]);
  await client.set('nr:bin', blob);
  assert.deepEqual(await client.get(client.commandOptions({ returnBuffers: true }), 'nr:bin'), blob);
  const keys = [];
  for await (const key of client.scanIterator({ MATCH: 'nr:*', COUNT: 2 })) keys.push(key);
  assert.deepEqual([...new Set(keys)].sort(), ['nr:bin', 'nr:h', 'nr:k', 'nr:n', 'nr:t', 'nr:z']);
  for (let i = 0; i < 300; i++) await client.zAdd('nr:zs', { score: i * 1.37, value: `m${i}` });
  const members = new Set();
  for await (const m of client.zScanIterator('nr:zs', { COUNT: 10 })) members.add(m.value);
  assert.equal(members.size, 300);  // cursors must survive JavaScript numbers
  const fields = new Set();
  for (let i = 0; i < 300; i++) await client.hSet('nr:hs', `f${i}`, 'v');
  for await (const f of client.hScanIterator('nr:hs', { COUNT: 10 })) fields.add(f.field);
  assert.equal(fields.size, 300);
  await assert.rejects(client.hGet('nr:k', 'f'), /WRONGTYPE/);
  await client.quit();
}

async function ioredis() {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  assert.equal(await r.ping(), 'PONG');
  assert.equal(await r.set('io:k', 'v', 'PX', 100000), 'OK');
  assert.equal(await r.get('io:k'), 'v');
  assert.equal(await r.hset('io:h', 'f', 'x'), 1);
  assert.deepEqual(await r.hgetall('io:h'), { f: 'x' });
  assert.equal(await r.zadd('io:z', 3, 'c', 1, 'a'), 2);
  assert.deepEqual(await r.zrange('io:z', 0, -1, 'WITHSCORES'), ['a', '1', 'c', '3']);
  const results = await r.pipeline().incr('io:n').incr('io:n').get('io:n').exec();
  assert.deepEqual(results.map(([err, v]) => v), [1, 2, '2']);
  assert.deepEqual(await r.multi().set('io:m', 'a').get('io:m').exec(), [[null, 'OK'], [null, 'a']]);
  await assert.rejects(r.incr('io:k'), /ERR value is not an integer or out of range/);
  const info = await r.info('server');
  assert.match(info, /redis_version:/);
  r.disconnect();
}

async function nodeRedis5Resp3() {
  const client = redis5.createClient({ RESP: 3, socket: { host: '127.0.0.1', port, connectTimeout: 5000 } });
  client.on('error', (e) => { console.error('node-redis v5 error', e); process.exit(2); });
  await client.connect();
  assert.equal(await client.ping(), 'PONG');
  assert.equal(await client.set('r3:k', 'v'), 'OK');
  assert.equal(await client.get('r3:k'), 'v');
  assert.equal(await client.get('r3:missing'), null);
  await client.hSet('r3:h', { a: '1' });
  const h = await client.hGetAll('r3:h');  // a RESP3 map
  assert.equal(h.a, '1');
  await client.zAdd('r3:z', [{ score: 1.5, value: 'a' }]);
  assert.equal(await client.zScore('r3:z', 'a'), 1.5);  // a RESP3 double
  const info = await client.clientInfo();
  assert.equal(info.resp, 3);
  await client.close();
}

(async () => {
  await nodeRedis();
  console.log('node-redis ok');
  await nodeRedis5Resp3();
  console.log('node-redis v5 resp3 ok');
  await ioredis();
  console.log('ioredis ok');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
