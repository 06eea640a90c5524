package engine

import (
	"bytes"
	"cmp"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Comparing values the way MySQL orders them, from the text-protocol bytes
// and the column type the backend sent. Strings are compared by the
// weight_string() the backend computed for them (so by the column's
// collation); numbers numerically; temporal values by their canonical text.

const binaryCharset = 63 // the "binary" character set number

// sortKind is how values of one column compare.
type sortKind int

const (
	sortDecimal sortKind = iota // integers, DECIMAL: exact numeric text
	sortFloat                   // FLOAT, DOUBLE
	sortBytes                   // temporal types with fixed-width text, BIT, binary strings, NULL type
	sortTime                    // TIME: signed, hours may exceed 99
	sortWeight                  // character strings: by weight_string bytes
	sortRefused                 // ENUM, SET, JSON, GEOMETRY: MySQL's order is not in the text
)

func sortKindOf(f *mysql.Field) sortKind {
	if f.Flag&(mysql.ENUM_FLAG|mysql.SET_FLAG) != 0 {
		return sortRefused
	}
	switch f.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG,
		mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_YEAR, mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL:
		return sortDecimal
	case mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		return sortFloat
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2, mysql.MYSQL_TYPE_BIT, mysql.MYSQL_TYPE_NULL:
		return sortBytes
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		return sortTime
	case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET, mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_GEOMETRY:
		return sortRefused
	}
	if f.Charset == binaryCharset {
		return sortBytes
	}
	return sortWeight
}

// sortColumn is one resolved comparison: the value column, its kind and,
// for sortWeight, the weight_string column.
type sortColumn struct {
	col, weight int
	kind        sortKind
	desc        bool
	pad         bool // PAD SPACE collation: trailing spaces do not count
}

// resolveColumn turns a column reference into an index: non-negative
// indices count from the start, negative ones from the end (hidden
// columns appended after a `*`).
func resolveColumn(i, n int) int {
	if i < 0 {
		return n + i
	}
	return i
}

// newSortColumn checks the fields and picks the comparison for column col
// (weight: its weight_string column, or -1 if none was pushed).
func newSortColumn(fields []*mysql.Field, col, weight int, desc bool) (sortColumn, error) {
	n := len(fields)
	c := resolveColumn(col, n)
	if c < 0 || c >= n {
		return sortColumn{}, errInternal("sort column %d out of range: shards returned %d columns", col, n)
	}
	sc := sortColumn{col: c, weight: -1, desc: desc, kind: sortKindOf(fields[c])}
	switch sc.kind {
	case sortRefused:
		return sortColumn{}, unsupportedf("ordering by ENUM, SET, JSON or GEOMETRY column %s across shards", fields[c].Name)
	case sortWeight:
		if weight == NoWeight {
			return sortColumn{}, unsupportedf("ordering by character column %s across shards without its weight_string", fields[c].Name)
		}
		w := resolveColumn(weight, n)
		if w < 0 || w >= n {
			return sortColumn{}, errInternal("weight column %d out of range: shards returned %d columns", weight, n)
		}
		sc.weight = w
		sc.pad = padSpace(fields[c])
	}
	return sc, nil
}

const NoWeight = math.MinInt32

// padSpace reports whether a character column's collation ignores trailing
// spaces. Every collation numbered below 255 does, in MySQL and MariaDB;
// MySQL 8's utf8mb4_0900 family and MariaDB's _nopad_ ones (numbered from
// 255 and 1024 up) do not.
func padSpace(f *mysql.Field) bool {
	return f.Charset < 255 && f.Charset != binaryCharset
}

// spaceWeights are the weight_string bytes of one space in the common
// collations: 8-bit (latin1), 2-byte (utf8mb4_general_ci), 3-byte
// (utf8mb4_bin) and UCA (utf8mb4_unicode_ci).
var spaceWeights = [...]string{"\x00\x00\x20", "\x00\x20", "\x20", "\x02\x09"}

// trimSpaceWeight drops the weights of value's trailing spaces from its
// weight_string: MariaDB's weight_string keeps them even for PAD SPACE
// collations, where 'a ' = 'a'. A fixed-width weight (one, two or three
// bytes a character) is recognised by its length; otherwise the UCA weight
// of a space is tried.
func trimSpaceWeight(value, weight []byte) []byte {
	k := 0
	for k < len(value) && value[len(value)-1-k] == ' ' {
		k++
	}
	if k == 0 || weight == nil {
		return weight
	}
	runes := utf8.RuneCount(value)
	for _, sw := range spaceWeights {
		if len(sw) != 2 || sw[0] != 2 {
			if len(weight) != runes*len(sw) {
				continue
			}
		}
		w := weight
		n := 0
		for n < k && len(w) >= len(sw) && string(w[len(w)-len(sw):]) == sw {
			w = w[:len(w)-len(sw)]
			n++
		}
		if n == k {
			return w
		}
	}
	return weight
}

// compareRows compares two rows on the columns, in order.
func compareRows(a, b [][]byte, cols []sortColumn) int {
	for _, c := range cols {
		var r int
		if c.kind == sortWeight {
			wa, wb := a[c.weight], b[c.weight]
			if c.pad {
				wa, wb = trimSpaceWeight(a[c.col], wa), trimSpaceWeight(b[c.col], wb)
			}
			r = compareValue(wa, wb, sortBytes)
		} else {
			r = compareValue(a[c.col], b[c.col], c.kind)
		}
		if r != 0 {
			if c.desc {
				return -r
			}
			return r
		}
	}
	return 0
}

// compareValue compares two values of one kind; NULL sorts first.
func compareValue(a, b []byte, kind sortKind) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch kind {
	case sortDecimal:
		return compareDecimal(a, b)
	case sortFloat:
		fa, ea := strconv.ParseFloat(string(a), 64)
		fb, eb := strconv.ParseFloat(string(b), 64)
		if ea != nil || eb != nil {
			return compareDecimal(a, b)
		}
		return cmp.Compare(fa, fb)
	case sortTime:
		return cmp.Compare(timeMicros(a), timeMicros(b))
	}
	return bytes.Compare(a, b)
}

// compareDecimal compares decimal numbers in text form ("-12.50", "7").
func compareDecimal(a, b []byte) int {
	na, nb := len(a) > 0 && a[0] == '-', len(b) > 0 && b[0] == '-'
	if na {
		a = a[1:]
	}
	if nb {
		b = b[1:]
	}
	if len(a) > 0 && a[0] == '+' {
		a = a[1:]
	}
	if len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	r := compareUnsignedDecimal(a, b)
	switch {
	case na && nb:
		return -r
	case na:
		if r == 0 && isZero(a) {
			return 0
		}
		return -1
	case nb:
		if r == 0 && isZero(a) {
			return 0
		}
		return 1
	}
	return r
}

func isZero(a []byte) bool {
	for _, c := range a {
		if c != '0' && c != '.' {
			return false
		}
	}
	return true
}

func compareUnsignedDecimal(a, b []byte) int {
	ia, fa := splitPoint(a)
	ib, fb := splitPoint(b)
	ia, ib = bytes.TrimLeft(ia, "0"), bytes.TrimLeft(ib, "0")
	if len(ia) != len(ib) {
		if len(ia) < len(ib) {
			return -1
		}
		return 1
	}
	if r := bytes.Compare(ia, ib); r != 0 {
		return r
	}
	fa, fb = bytes.TrimRight(fa, "0"), bytes.TrimRight(fb, "0")
	return bytes.Compare(fa, fb)
}

func splitPoint(a []byte) (intPart, frac []byte) {
	if i := bytes.IndexByte(a, '.'); i >= 0 {
		return a[:i], a[i+1:]
	}
	return a, nil
}

// timeMicros reads a TIME value "[-]H+:MM:SS[.ffffff]" as signed microseconds.
func timeMicros(v []byte) int64 {
	neg := len(v) > 0 && v[0] == '-'
	if neg {
		v = v[1:]
	}
	var parts [3]int64
	var frac int64
	fracDigits := 0
	p := 0
	inFrac := false
	for _, c := range v {
		switch {
		case c == ':' && !inFrac && p < 2:
			p++
		case c == '.':
			inFrac = true
		case c >= '0' && c <= '9':
			if inFrac {
				if fracDigits < 6 {
					frac = frac*10 + int64(c-'0')
					fracDigits++
				}
			} else {
				parts[p] = parts[p]*10 + int64(c-'0')
			}
		}
	}
	for ; fracDigits < 6; fracDigits++ {
		frac *= 10
	}
	us := ((parts[0]*60+parts[1])*60+parts[2])*1_000_000 + frac
	if neg {
		return -us
	}
	return us
}

// addDecimal adds two exact decimal texts.
func addDecimal(a, b string) (string, bool) {
	ra, ok1 := new(big.Rat).SetString(a)
	rb, ok2 := new(big.Rat).SetString(b)
	if !ok1 || !ok2 {
		return "", false
	}
	scale := max(fracDigits(a), fracDigits(b))
	return ra.Add(ra, rb).FloatString(scale), true
}

func fracDigits(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// formatDouble writes a DOUBLE the way MySQL prints one: plain digits for
// ordinary magnitudes, 1e20-style exponents for very large or small ones.
func formatDouble(f float64) string {
	a := math.Abs(f)
	if f == 0 || (a >= 1e-4 && a < 1e15) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := ""
	if exp[0] == '-' {
		sign = "-"
	}
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + exp
}

// sortRows orders rows by cols, keeping the order of equal rows.
func sortRows(rows [][][]byte, cols []sortColumn) {
	slices.SortStableFunc(rows, func(a, b [][]byte) int { return compareRows(a, b, cols) })
}
