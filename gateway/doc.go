// Package gateway is shardgate's MySQL protocol front end: it accepts client
// connections (go-mysql's server package does the handshake and command
// dispatch), keeps one session per connection, answers session statements
// (SET, USE, SHOW, transactions) itself, and runs everything else through
// planner plans against the tablets that the topology names.
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
