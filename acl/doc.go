// Package acl owns the gateway's users as the gateway checks them: their
// password hashes (stored as MySQL stores them: mysql_native_password's
// "*" + hex(SHA1(SHA1(pw))) and caching_sha2_password's "$A$005$" salted
// SHA-256 crypt), the checks of what a client sends against those hashes
// (a native scramble, a caching_sha2 fast-auth scramble or a full-auth
// password), the caching_sha2 fast-auth cache, and the privileges a user's
// grants give (read, write, ddl, admin, by keyspace and table).
//
// It holds no plaintext password and talks to nothing: the users come from
// topo.User records (the gateway watches them in etcd; shardctl writes
// them), the packets from the gateway. It must not import gateway,
// planner, engine or tablet, nor do any I/O.
package acl
