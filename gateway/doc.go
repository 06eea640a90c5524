// Package gateway is shardgate's MySQL protocol front end: it accepts client
// connections (go-mysql's server package does the handshake and command
// dispatch), keeps one session per connection, runs the session commands
// itself (USE, BEGIN/COMMIT/ROLLBACK/SAVEPOINT, KILL, UNLOCK TABLES), and
// runs everything else, SHOW, SET, VEXPLAIN and NEXT VALUES included, as
// planner plans against the tablets that the topology names. It routes
// nothing itself: the planner decides which shards a statement reaches,
// and the gateway implements engine.VCursor (vcursor.go), with
// engine.SessionActions and engine.SettingActions for the primitives that
// read or change the session (session_actions.go, set.go).
//
// Every statement has one owner, statement.go: beginStatement gives it its
// context (deadline, KILL, client gone), one topology snapshot, fresh
// warnings and the StatementHooks; endStatement maps its error once
// (sqlerror) and ends it. The gateway builds no MySQL error by hand.
//
// The gateway writes every response packet itself (through wire.Writer)
// rather than handing whole result sets back to go-mysql: rows stream from
// the shards to the client without being buffered, column definitions are
// forwarded byte-for-byte as the backend sent them, and error numbers
// survive paths where go-mysql would wrap them.
//
// It must not encode or decode packet bytes itself: packet layouts belong
// to package wire, and so does every workaround around go-mysql's server
// (wire/gomysql_fence.go), which the gateway only installs.
package gateway
