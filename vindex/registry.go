package vindex

import (
	"fmt"
	"slices"
)

// constructor builds a vindex of one type from its vschema name and params.
type constructor func(name string, params map[string]string) (Vindex, error)

// constructors is the table of known vindex types. It is built on each call,
// not kept in a package variable, so that nothing can change it at run time;
// a new type is one line here.
func constructors() map[string]constructor {
	return map[string]constructor{
		"binary":                   newBinary,
		"consistent_lookup":        newLookup(false, true),
		"consistent_lookup_unique": newLookup(true, true),
		"hash":                     newHash,
		"lookup":                   newLookup(false, false),
		"lookup_unique":            newLookup(true, false),
		"numeric":                  newNumeric,
		"unicode_loose_xxhash":     newUnicodeLooseXXHash,
		"xxhash":                   newXXHash,
	}
}

// New builds the vindex named name of type typ. params are the vschema's
// "params"; the functional types take none, the lookup types need table,
// from and to, and all of them, like Vitess, ignore unknown ones.
// An unknown type returns an error wrapping ErrUnknownType that names it,
// e.g. `vindex: unknown vindex type "hsh"`.
func New(typ, name string, params map[string]string) (Vindex, error) {
	c, ok := constructors()[typ]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	return c(name, params)
}

// Types lists the known vindex type names, sorted.
func Types() []string {
	m := constructors()
	types := make([]string, 0, len(m))
	for t := range m {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}
