// Package tablet is shardgate's view of one MySQL or MariaDB instance.
//
// It has three parts:
//
//   - Conn and Pool: backend connections that speak the text protocol
//     (COM_QUERY) and hand rows over as the raw bytes the server sent, so the
//     gateway forwards them without decoding and re-encoding. Conn.Execute
//     buffers one result; Conn.Stream hands rows over one at a time for
//     results of any size. Conn.StreamBinary runs a query through the
//     prepared-statement protocol instead and renders the binary rows as
//     the same text values (FLOAT exactly: see its comment). A Pool
//     bounds the connections open to one instance and hands them to
//     autocommit statements and to sessions' transactions alike.
//   - CheckHealth: whether an instance answers, is read-only, and how far
//     its replication lags.
//   - Mysqld: a local mariadbd process that shardgate owns (`shardgate up`,
//     tests): data directory, my.cnf, start/stop, GTID replication. Its
//     subpackage tablettest starts one for a test.
//
// Everything that does I/O takes a context first. Cancelling it while a
// statement runs closes that connection and kills the statement on the
// server (KILL QUERY from a fresh connection). Server errors come back as
// go-mysql's *mysql.MyError with the server's number, SQLSTATE and message;
// the connection stays usable. Any other failure marks the connection
// broken (errors.Is(err, ErrConnBroken)) and a Pool replaces it.
//
// Packet layouts (OK, ERR, EOF, column definitions, rows, commands) come
// from package wire: tablet sequences the commands and reads the answers,
// it does not encode or decode packet bytes itself.
//
// The package keeps no global state; loggers come in through the Config
// structs.
package tablet
