// Package querystats keeps what operators ask of a gateway's statements:
// a bounded table of query digests (statements with their literals
// replaced, counted with rows, errors, latency percentiles and shards
// reached) and a JSON-lines query log (slow, failing or sampled
// statements).
//
// It owns no goroutine and no network connection, and imports nothing of
// shardgate's: the gateway feeds it from its statement hooks, and SHOW
// QUERY STATS, the console and the query log read it.
package querystats
