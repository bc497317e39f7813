// Real client code against ragkv: LangChain's RedisVectorStore, node-redis v4
// (@redis/search) and ioredis raw FT.* commands. Every result is compared with
// a brute-force answer computed here. Usage: node search_compat.mjs <port>
import assert from "node:assert/strict";
import { createClient, SchemaFieldTypes, VectorAlgorithms } from "redis";
import Redis from "ioredis";
import { Embeddings } from "@langchain/core/embeddings";
import { Document } from "@langchain/core/documents";
import { RedisVectorStore } from "@langchain/redis";

const port = Number(process.argv[2]);
const DIM = 8;

// Deterministic embeddings: character trigram hashing into DIM buckets.
class HashEmbeddings extends Embeddings {
  constructor() { super({}); }
  embed(text) {
    const v = new Array(DIM).fill(0);
    for (let i = 0; i + 2 < text.length + 2; i++) {
      let h = 2166136261;
      for (const c of text.slice(i, i + 3)) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
      v[(h >>> 0) % DIM] += 1 + ((h >>> 8) % 7) / 7;
    }
    v[0] += 0.5;  // never the zero vector
    return v;
  }
  async embedDocuments(texts) { return texts.map((t) => this.embed(t)); }
  async embedQuery(text) { return this.embed(text); }
}

function cosineDistance(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return 1 - dot / Math.sqrt(na * nb);
}
function l2(a, b) { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2; return s; }
function f32(v) { return Array.from(new Float32Array(v)); }
function blob(v) { return Buffer.from(new Float32Array(v).buffer); }

const texts = [
  ["the quick brown fox jumps", "alpha"], ["a lazy dog sleeps all day", "beta"],
  ["vector databases store embeddings", "alpha"], ["redis speaks resp over tcp", "gamma"],
  ["hnsw graphs find neighbours fast", "beta"], ["bm25 ranks text documents", "alpha"],
  ["cats chase mice at night", "gamma"], ["compilers turn code into programs", "beta"],
];

async function langchain(client) {
  const embeddings = new HashEmbeddings();
  const store = new RedisVectorStore(embeddings, { redisClient: client, indexName: "lc" });
  const docs = texts.map(([t, src]) => new Document({ pageContent: t, metadata: { source: src } }));
  await store.addDocuments(docs.slice(0, 5));
  await store.addDocuments(docs.slice(5));  // numbering continues from num_docs
  assert.equal(await client.dbSize(), texts.length, "every document stored under its own key");
  const info = await client.ft.info("lc");
  assert.equal(Number(info.numDocs), texts.length);

  const query = "fast neighbour search in graphs";
  const qv = f32(embeddings.embed(query));
  const brute = texts.map(([t, src]) => ({ t, src, d: cosineDistance(qv, f32(embeddings.embed(t))) }))
    .sort((a, b) => a.d - b.d);

  const k = 3;
  const hits = await store.similaritySearchWithScore(query, k);
  assert.deepEqual(hits.map(([d]) => d.pageContent), brute.slice(0, k).map((b) => b.t));
  hits.forEach(([, score], i) => assert.ok(Math.abs(score - brute[i].d) < 1e-4, `score ${score} vs ${brute[i].d}`));
  assert.deepEqual(hits[0][0].metadata, { source: brute[0].src });

  // Metadata filter: a full-text match on the escaped JSON metadata field.
  const filtered = await store.similaritySearchWithScore(query, k, ["alpha"]);
  const bruteAlpha = brute.filter((b) => b.src === "alpha").slice(0, k);
  assert.deepEqual(filtered.map(([d]) => d.pageContent), bruteAlpha.map((b) => b.t));

  // delete by id, then everything.
  await store.delete({ ids: ["0"] });
  const after = await client.ft.info("lc");
  assert.equal(Number(after.numDocs), texts.length - 1);
  await store.delete({ deleteAll: true });
  assert.deepEqual(await client.ft._list(), []);
  assert.equal(await client.dbSize(), 0);
}

async function nodeRedisSearch(client) {
  for (const [name, algo] of [["nr_hnsw", VectorAlgorithms.HNSW], ["nr_flat", VectorAlgorithms.FLAT]]) {
    await client.ft.create(name, {
      v: { type: SchemaFieldTypes.VECTOR, ALGORITHM: algo, TYPE: "FLOAT32", DIM: 4, DISTANCE_METRIC: "L2" },
      color: { type: SchemaFieldTypes.TAG },
      price: { type: SchemaFieldTypes.NUMERIC, SORTABLE: true },
      title: { type: SchemaFieldTypes.TEXT },
    }, { ON: "HASH", PREFIX: `${name}:` });
    const items = [];
    for (let i = 0; i < 40; i++) {
      const v = f32([Math.sin(i), Math.cos(i), i / 40, (i % 7) / 7]);
      const item = { key: `${name}:${i}`, v, color: ["red", "green", "blue"][i % 3], price: i * 2.5 };
      items.push(item);
      await client.hSet(item.key, { v: blob(v), color: item.color, price: String(item.price), title: `item number ${i}` });
    }
    const q = f32([0.5, 0.5, 0.5, 0.5]);
    const want = items.filter((it) => it.color === "red" && it.price >= 20)
      .map((it) => ({ key: it.key, d: l2(q, it.v) })).sort((a, b) => a.d - b.d).slice(0, 5);
    const res = await client.ft.search(name, "(@color:{red} @price:[20 +inf])=>[KNN 5 @v $B AS dist]", {
      PARAMS: { B: blob(q) }, SORTBY: "dist", DIALECT: 2, RETURN: ["dist", "color"],
    });
    assert.equal(res.total, want.length);
    assert.deepEqual(res.documents.map((d) => d.id), want.map((w) => w.key));
    res.documents.forEach((d, i) => assert.ok(Math.abs(Number(d.value.dist) - want[i].d) < 1e-4));
    const info = await client.ft.info(name);
    assert.equal(Number(info.numDocs), 40);
    assert.deepEqual((await client.ft.tagVals(name, "color")).sort(), ["blue", "green", "red"]);
  }
  assert.deepEqual((await client.ft._list()).sort(), ["nr_flat", "nr_hnsw"]);
  await client.ft.dropIndex("nr_hnsw", { DD: true });
  await client.ft.dropIndex("nr_flat", { DD: true });
  assert.equal(await client.dbSize(), 0);
}

async function ioredisRaw() {
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  await r.call("FT.CREATE", "io", "ON", "HASH", "PREFIX", "1", "io:", "SCHEMA",
    "emb", "VECTOR", "HNSW", "6", "TYPE", "FLOAT32", "DIM", "2", "DISTANCE_METRIC", "IP", "kind", "TAG");
  const vecs = [[1, 0], [0.8, 0.6], [0, 1], [-1, 0]];
  for (let i = 0; i < vecs.length; i++) await r.hset(`io:${i}`, "emb", blob(vecs[i]), "kind", i % 2 ? "odd" : "even");
  const reply = await r.call("FT.SEARCH", "io", "*=>[KNN 2 @emb $q AS s]", "PARAMS", "2", "q", blob([1, 0]),
    "SORTBY", "s", "RETURN", "1", "s", "DIALECT", "2");
  // [total, id, [s, value], id, [s, value]]
  assert.equal(reply[0], 2);
  assert.deepEqual([reply[1], reply[3]], ["io:0", "io:1"]);
  assert.equal(reply[2][1], "0");  // IP distance 1 - dot, as a bulk string
  assert.ok(Math.abs(Number(reply[4][1]) - 0.2) < 1e-6);
  await assert.rejects(r.call("FT.SEARCH", "missing", "*"), /missing: no such index/);
  await assert.rejects(r.call("FT.DROPINDEX", "missing"), /Unknown Index name/);
  await r.call("FT.DROPINDEX", "io", "DD");
  r.disconnect();
}

const client = createClient({ socket: { port, host: "127.0.0.1" } });
client.on("error", (e) => { console.error("client error", e); });
await client.connect();
try {
  await langchain(client);
  await nodeRedisSearch(client);
  await ioredisRaw();
  console.log("search_compat.mjs: OK");
} finally {
  await client.quit();
}
