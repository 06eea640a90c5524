// Package wire owns the encoding and decoding of MySQL client/server
// protocol packets: packet framing, length-encoded integers and strings,
// OK/ERR/EOF, column definitions, text and binary result rows, the
// COM_STMT_EXECUTE parameter block and COM_STMT_SEND_LONG_DATA chunks.
// Both sides of the gateway use it: gateway answers its clients with it
// and tablet reads its shards' answers with it. No package outside wire
// builds or parses packet bytes.
//
// It imports nothing of ours: go-mysql's mysql package (constants,
// MyError, Field) and, for one compile-time assertion, its server package.
// (Only the recorder of testdata, record_test.go, uses tablet's test
// helper to start a mariadbd.) It never dials or listens, never plans or
// routes: it is handed connections and bytes and hands back values.
//
// go-mysql's server package runs the gateway's handshake and command loop.
// Everything that exists only to work around that package — rewriting a
// client's packets before go-mysql reads them, correcting its sequence
// numbers, mirroring its statement ids, batching its writes — lives in one
// fenced file, gomysql_fence.go, each with its reason beside it. Owning
// the command loop instead would mean re-implementing the handshake, TLS
// upgrade, auth switch (native and caching_sha2) and statement dispatch,
// several times the size of the fence; so the fence it is, until go-mysql
// serves these commands itself.
//
// Field widths in comments follow the protocol documentation
// (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html),
// e.g. "status_flags [16 bit]"; byte-for-byte tests against packets
// recorded from MariaDB 10.11 are in testdata/.
package wire
