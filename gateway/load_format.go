package gateway

import (
	"bytes"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/sqlerror"
)

// loadFormat is how LOAD DATA's FIELDS and LINES clauses cut a file into
// rows and fields (MySQL's defaults: tab-separated fields, newline-ended
// lines, backslash escapes, no enclosure).
type loadFormat struct {
	fieldTerm, enclosed, lineStart, lineTerm []byte
	escape                                   byte // 0: none
}

func loadFormatOf(st *ast.LoadDataStmt) (loadFormat, error) {
	f := loadFormat{fieldTerm: []byte("\t"), lineTerm: []byte("\n"), escape: '\\'}
	if fi := st.FieldsInfo; fi != nil {
		if fi.Terminated != nil {
			f.fieldTerm = []byte(*fi.Terminated)
		}
		if fi.Enclosed != nil {
			f.enclosed = []byte(*fi.Enclosed)
		}
		if fi.Escaped != nil {
			f.escape = 0
			if e := *fi.Escaped; e != "" {
				f.escape = e[0]
			}
		}
		if fi.DefinedNullBy != nil {
			return f, sqlerror.NotSupported("LOAD DATA ... NULL DEFINED BY")
		}
	}
	if li := st.LinesInfo; li != nil {
		if li.Starting != nil {
			f.lineStart = []byte(*li.Starting)
		}
		if li.Terminated != nil {
			f.lineTerm = []byte(*li.Terminated)
		}
	}
	if len(f.fieldTerm) == 0 || len(f.lineTerm) == 0 {
		return f, sqlerror.NotSupported("LOAD DATA with fixed-width rows (empty FIELDS or LINES TERMINATED BY) into a sharded table")
	}
	return f, nil
}

// loadField is one field of a row: its value with escapes applied, or
// NULL (\N, or an unenclosed NULL when fields may be enclosed).
type loadField struct {
	val  []byte
	null bool
}

// loadReader cuts the bytes of a LOAD DATA file, fed as they arrive, into
// rows.
type loadReader struct {
	f   loadFormat
	buf []byte
	eof bool
}

func (r *loadReader) feed(data []byte) { r.buf = append(r.buf, data...) }

// next returns the next whole row; ok is false when the buffer holds no
// whole row (feed more, or at the end the file is done). A last line
// without its terminator is a row at the end of the file.
func (r *loadReader) next() (row []loadField, ok bool) {
	if len(r.buf) == 0 {
		return nil, false
	}
	start := 0
	if len(r.f.lineStart) > 0 {
		// Lines without the prefix are skipped, and what precedes it.
		i := bytes.Index(r.buf, r.f.lineStart)
		if i < 0 {
			if r.eof {
				r.buf = r.buf[:0]
			}
			return nil, false
		}
		start = i + len(r.f.lineStart)
	}
	row, n, complete := r.parseRow(r.buf[start:])
	if !complete && !r.eof {
		return nil, false
	}
	r.buf = r.buf[start+n:]
	return row, true
}

// parseRow reads one row from b: its fields, the bytes it took (line
// terminator included) and whether its terminator is within b.
func (r *loadReader) parseRow(b []byte) (row []loadField, n int, complete bool) {
	f := r.f
	i := 0
	for {
		fld, j, ended := r.parseField(b, i)
		row = append(row, fld)
		if !ended {
			return row, len(b), false
		}
		i = j
		if bytes.HasPrefix(b[i:], f.lineTerm) {
			return row, i + len(f.lineTerm), true
		}
		i += len(f.fieldTerm) // parseField stops only at a terminator
	}
}

// parseField reads the field starting at b[i] and returns it with the
// index of the terminator after it; ended is false when b ends first.
func (r *loadReader) parseField(b []byte, i int) (fld loadField, end int, ended bool) {
	f := r.f
	enclosed := len(f.enclosed) > 0 && bytes.HasPrefix(b[i:], f.enclosed)
	if enclosed {
		i += len(f.enclosed)
	}
	atTerminator := func(j int) bool {
		return bytes.HasPrefix(b[j:], f.lineTerm) || bytes.HasPrefix(b[j:], f.fieldTerm)
	}
	val := []byte{}
	for i < len(b) {
		switch {
		case enclosed && bytes.HasPrefix(b[i:], f.enclosed):
			after := i + len(f.enclosed)
			if bytes.HasPrefix(b[after:], f.enclosed) {
				val = append(val, f.enclosed...) // doubled: one literal
				i = after + len(f.enclosed)
				continue
			}
			if after >= len(b) {
				return loadField{val: val}, after, false
			}
			if atTerminator(after) {
				return loadField{val: val}, after, true
			}
			val = append(val, b[i])
			i++
		case !enclosed && atTerminator(i):
			return r.unenclosed(val), i, true
		case f.escape != 0 && b[i] == f.escape:
			if i+1 >= len(b) {
				return loadField{val: val}, len(b), false
			}
			c := b[i+1]
			if c == 'N' && !enclosed && len(val) == 0 && (i+2 >= len(b) || atTerminator(i+2)) {
				if i+2 >= len(b) {
					return loadField{null: true}, i + 2, false
				}
				return loadField{null: true}, i + 2, true
			}
			val = append(val, unescapeLoad(c))
			i += 2
		default:
			val = append(val, b[i])
			i++
		}
	}
	if enclosed {
		return loadField{val: val}, i, false
	}
	return r.unenclosed(val), i, false
}

// unenclosed is an unenclosed field: the word NULL is NULL when fields
// may be enclosed (as in MySQL).
func (r *loadReader) unenclosed(val []byte) loadField {
	return loadField{val: val, null: len(r.f.enclosed) > 0 && string(val) == "NULL"}
}

// unescapeLoad is what an escaped character stands for in LOAD DATA.
func unescapeLoad(c byte) byte {
	switch c {
	case '0':
		return 0
	case 'b':
		return '\b'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'Z':
		return 0x1a
	}
	return c
}
