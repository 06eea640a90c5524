// mysql2 against a shardgate gateway: text queries, placeholders (client
// side), execute() (server-side prepared statements), transactions and
// bulk inserts, in each keyspace given. compat/clients_test.go runs it; any
// failure throws (exit status 1).
//
// Usage: node compat.js host port user password keyspace... [tls=PORT]
'use strict';
const mysql = require('mysql2/promise');
const assert = require('node:assert/strict');

async function run(host, port, user, password, ks) {
  const c = await mysql.createConnection({ host, port, user, password, database: ks, charset: 'utf8mb4' });
  try {
    await c.query('DROP TABLE IF EXISTS node_items');
    await c.query('CREATE TABLE node_items (id BIGINT PRIMARY KEY, name VARCHAR(50), n INT, at DATETIME)');
    await c.query('INSERT INTO node_items (id, name, n, at) VALUES ?', [[[1, 'one \u{1F600}', 10, null], [2, 'two', 20, null]]]);
    for (let i = 3; i <= 30; i++) {
      await c.execute('INSERT INTO node_items (id, name, n, at) VALUES (?, ?, ?, ?)', [i, 'n' + i, i * 10, '2024-01-02 03:04:05']);
    }
    const [rows] = await c.execute('SELECT id, name, n FROM node_items WHERE id = ?', [1]);
    assert.deepEqual(rows.map(r => [r.id, r.name, r.n]), [[1, 'one \u{1F600}', 10]]);
    const [r3] = await c.execute('SELECT at FROM node_items WHERE id = ?', [3]);
    assert.equal(r3[0].at.getFullYear(), 2024);
    const [cnt] = await c.query('SELECT count(*) AS c, sum(n) AS s FROM node_items');
    assert.equal(Number(cnt[0].c), 30);
    assert.equal(Number(cnt[0].s), 4650);
    const [upd] = await c.execute('UPDATE node_items SET n = n + 1 WHERE id IN (?, ?)', [1, 2]);
    assert.equal(upd.affectedRows, 2);
    const [ordered] = await c.query('SELECT id FROM node_items ORDER BY n DESC LIMIT 2');
    assert.deepEqual(ordered.map(r => r.id), [30, 29]);

    await c.beginTransaction();
    await c.execute('INSERT INTO node_items (id, name) VALUES (?, ?)', [100, 'gone']);
    await c.rollback();
    await c.beginTransaction();
    await c.execute('INSERT INTO node_items (id, name) VALUES (?, ?)', [101, 'kept']);
    await c.commit();
    const [tx] = await c.query('SELECT id FROM node_items WHERE id >= 100');
    assert.deepEqual(tx.map(r => r.id), [101]);

    await assert.rejects(c.query('SELECT * FROM no_such_table'), e => e.errno === 1146);
    await c.ping();
  } finally {
    await c.end();
  }
  console.log('ok ' + ks);
}

// A --require-tls gateway with caching_sha2_password: TLS connects
// (mysql2's ssl option is sslMode=REQUIRED), a plain connection gets 3159.
async function tls(host, port, user, password, ks) {
  const c = await mysql.createConnection({ host, port, user, password, database: ks, ssl: { rejectUnauthorized: false } });
  const [rows] = await c.query('SELECT 1 AS one');
  assert.equal(rows[0].one, 1);
  await c.end();
  await assert.rejects(mysql.createConnection({ host, port, user, password, database: ks }), e => e.errno === 3159);
  console.log('ok tls');
}

(async () => {
  const [host, port, user, password, ...keyspaces] = process.argv.slice(2);
  let tlsPort;
  if (keyspaces.length && keyspaces[keyspaces.length - 1].startsWith('tls=')) tlsPort = Number(keyspaces.pop().slice(4));
  for (const ks of keyspaces) await run(host, Number(port), user, password, ks);
  if (tlsPort) await tls(host, tlsPort, user, password, keyspaces[keyspaces.length - 1]);
})().catch(e => { console.error(e); process.exit(1); });
