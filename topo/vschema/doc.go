// Package vschema is the VSchema: how each keyspace's tables are sharded,
// in Vitess's JSON format so that a Vitess user can bring theirs.
//
// Keyspace and the types under it are the JSON form, one per keyspace.
// Parse reads one strictly and Validate checks it on its own. Build
// compiles all keyspaces' vschemas together into a VSchema, with vindexes
// instantiated and sequences resolved across keyspaces: the form the
// planner routes with.
//
// The package is a leaf: it imports only vindex.
package vschema
