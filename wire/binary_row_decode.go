package wire

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// notFixedDecimals is the decimals of a DOUBLE or FLOAT column declared
// without a scale (MariaDB's NOT_FIXED_DEC): the server prints it with as
// many digits as it needs, not a fixed number.
const notFixedDecimals = 31

// BinaryRowDecoder turns binary-protocol result rows (COM_STMT_EXECUTE)
// into the text values the rest of the code works with, rendered as
// MariaDB renders them in the text protocol, except FLOAT (see
// appendValueText). It keeps its buffers from one row to the next.
type BinaryRowDecoder struct {
	text  []byte   // the rendered values of the current row
	spans [][2]int // where each rendered value lies in text; -1: none
}

// Decode splits a binary row:
//
//	header       [1]  0x00
//	null bitmap  [(columns+7+2)/8]  (bits offset by 2)
//	values       one per non-NULL column, encoded by column type
//
// into row (len(row) is the column count). String-like values alias pkt;
// the rendered ones alias the decoder's buffer: both are valid until the
// next call.
func (d *BinaryRowDecoder) Decode(pkt []byte, fields []*mysql.Field, row [][]byte) error {
	n := len(row)
	bitmap := (n + 7 + 2) / 8
	if len(pkt) < 1+bitmap || pkt[0] != HeaderOK || len(fields) != n {
		return ErrMalformed
	}
	if cap(d.spans) < n {
		d.spans = make([][2]int, n)
	}
	spans := d.spans[:n]
	d.text = d.text[:0]
	pos := 1 + bitmap
	for i := range row {
		spans[i][0] = -1
		if bit := i + 2; pkt[1+bit/8]&(1<<(bit%8)) != 0 {
			row[i] = nil
			continue
		}
		f := fields[i]
		size, ok := fixedSize(f.Type)
		if !ok {
			// Length-encoded bytes: the same as in the text protocol.
			l, p, ok := ReadLenEncInt(pkt, pos)
			if !ok || l > uint64(len(pkt)-p) {
				return ErrMalformed
			}
			end := p + int(l)
			row[i] = pkt[p:end:end]
			pos = end
			continue
		}
		if size < 0 {
			// Temporal values: length [1] then that many bytes.
			if pos >= len(pkt) {
				return ErrMalformed
			}
			size = 1 + int(pkt[pos])
		}
		if len(pkt)-pos < size {
			return ErrMalformed
		}
		start := len(d.text)
		var err error
		if d.text, err = appendValueText(d.text, f, pkt[pos:pos+size]); err != nil {
			return err
		}
		spans[i] = [2]int{start, len(d.text)}
		pos += size
	}
	if pos != len(pkt) {
		return ErrMalformed
	}
	for i, s := range spans {
		if s[0] >= 0 {
			row[i] = d.text[s[0]:s[1]:s[1]]
		}
	}
	return nil
}

// fixedSize is the width of a column type's binary value: a fixed count,
// -1 for a length-prefixed temporal value, or ok false for the types sent
// as length-encoded strings (DECIMAL, strings, blobs, BIT, ENUM, SET,
// JSON, GEOMETRY).
func fixedSize(t byte) (size int, ok bool) {
	switch t {
	case mysql.MYSQL_TYPE_TINY:
		return 1, true
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		return 2, true
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_FLOAT:
		return 4, true
	case mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_DOUBLE:
		return 8, true
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_DATETIME,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIME:
		return -1, true
	}
	return 0, false
}

// appendValueText renders one fixed-size binary value (v, of the width
// fixedSize gave) as the text protocol shows it: integers in decimal,
// zero-filled to the display width for ZEROFILL columns and YEAR;
// DOUBLE as MariaDB prints it (appendDouble); dates and times with the
// column's fractional digits.
//
// FLOAT is the exception: MariaDB's text protocol prints 6 significant
// digits, which loses the stored single-precision value; here it is the
// shortest text that parses back to the same float32, so a caller that
// re-encodes it in the binary protocol sends the exact bits MariaDB
// would.
func appendValueText(b []byte, f *mysql.Field, v []byte) ([]byte, error) {
	unsigned := f.Flag&mysql.UNSIGNED_FLAG != 0
	start := len(b)
	switch f.Type {
	case mysql.MYSQL_TYPE_TINY:
		if unsigned {
			b = strconv.AppendUint(b, uint64(v[0]), 10)
		} else {
			b = strconv.AppendInt(b, int64(int8(v[0])), 10)
		}
		return zeroFill(b, start, f), nil
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		u := binary.LittleEndian.Uint16(v)
		if unsigned || f.Type == mysql.MYSQL_TYPE_YEAR {
			b = strconv.AppendUint(b, uint64(u), 10)
		} else {
			b = strconv.AppendInt(b, int64(int16(u)), 10)
		}
		return zeroFill(b, start, f), nil
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG:
		u := binary.LittleEndian.Uint32(v)
		if unsigned {
			b = strconv.AppendUint(b, uint64(u), 10)
		} else {
			b = strconv.AppendInt(b, int64(int32(u)), 10)
		}
		return zeroFill(b, start, f), nil
	case mysql.MYSQL_TYPE_LONGLONG:
		u := binary.LittleEndian.Uint64(v)
		if unsigned {
			b = strconv.AppendUint(b, u, 10)
		} else {
			b = strconv.AppendInt(b, int64(u), 10)
		}
		return zeroFill(b, start, f), nil
	case mysql.MYSQL_TYPE_FLOAT:
		x := math.Float32frombits(binary.LittleEndian.Uint32(v))
		return strconv.AppendFloat(b, float64(x), 'g', -1, 32), nil
	case mysql.MYSQL_TYPE_DOUBLE:
		x := math.Float64frombits(binary.LittleEndian.Uint64(v))
		if f.Decimal < notFixedDecimals {
			return strconv.AppendFloat(b, x, 'f', int(f.Decimal), 64), nil
		}
		return appendDouble(b, x), nil
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return appendDate(b, v[1:])
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
		return appendDateTime(b, v[1:], f.Decimal)
	case mysql.MYSQL_TYPE_TIME:
		return appendTime(b, v[1:], f.Decimal)
	}
	return nil, ErrMalformed
}

// zeroFill pads the digits appended at b[start:] with leading zeros to
// the column's display width, as the server does for ZEROFILL columns
// (and always for YEAR: year 0 is "0000").
func zeroFill(b []byte, start int, f *mysql.Field) []byte {
	if f.Flag&mysql.ZEROFILL_FLAG == 0 && f.Type != mysql.MYSQL_TYPE_YEAR {
		return b
	}
	pad := int(f.ColumnLength) - (len(b) - start)
	if pad <= 0 || pad > 255 {
		return b
	}
	for range pad {
		b = append(b, 0)
	}
	copy(b[start+pad:], b[start:len(b)-pad])
	for i := start; i < start+pad; i++ {
		b[i] = '0'
	}
	return b
}

// maxDecimalExponent: MariaDB prints a DOUBLE in fixed notation when its
// decimal point falls within 15 digits (DBL_DIG) of the first significant
// one, else in exponent notation (its my_gcvt).
const maxDecimalExponent = 15

// appendDouble prints x as MariaDB's text protocol does for a DOUBLE of
// no fixed scale: the shortest digits that round-trip, in fixed notation
// ("0.1", "100000000000000", "0.000000000000001") unless the number is
// too large or too small for it, then d[.ddd]e[-]x ("1e15", "1e-16",
// "1.7976931348623157e308").
func appendDouble(b []byte, x float64) []byte {
	var scratch [32]byte
	// d[.ddd]e±xx
	e := strconv.AppendFloat(scratch[:0], math.Abs(x), 'e', -1, 64)
	var digits [24]byte
	nd := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[nd] = e[i]
			nd++
		}
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	decpt := exp + 1 // digits before the decimal point
	if math.Signbit(x) {
		b = append(b, '-')
	}
	d := digits[:nd]
	if decpt > -maxDecimalExponent && (decpt <= maxDecimalExponent || nd > decpt) {
		switch {
		case decpt <= 0:
			b = append(b, '0', '.')
			for range -decpt {
				b = append(b, '0')
			}
			return append(b, d...)
		case decpt < nd:
			b = append(b, d[:decpt]...)
			b = append(b, '.')
			return append(b, d[decpt:]...)
		default:
			b = append(b, d...)
			for range decpt - nd {
				b = append(b, '0')
			}
			return b
		}
	}
	b = append(b, d[0])
	if nd > 1 {
		b = append(b, '.')
		b = append(b, d[1:]...)
	}
	b = append(b, 'e')
	return strconv.AppendInt(b, int64(exp), 10)
}

// appendDate prints a binary DATE (year [16 bit] month day, or nothing
// for the zero date) as YYYY-MM-DD.
func appendDate(b, v []byte) ([]byte, error) {
	var year, month, day int
	switch len(v) {
	case 0:
	case 4, 7, 11:
		year, month, day = int(binary.LittleEndian.Uint16(v)), int(v[2]), int(v[3])
	default:
		return nil, ErrMalformed
	}
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, month, 2)
	b = append(b, '-')
	return appendDigits(b, day, 2), nil
}

// appendDateTime prints a binary DATETIME or TIMESTAMP (the date, then
// hour minute second, then micro [32 bit], each part omitted when it and
// the following ones are zero) as YYYY-MM-DD hh:mm:ss[.ffffff], with the
// column's count of fractional digits.
func appendDateTime(b, v []byte, decimals uint8) ([]byte, error) {
	b, err := appendDate(b, v)
	if err != nil {
		return nil, err
	}
	var hour, minute, second, micro int
	if len(v) >= 7 {
		hour, minute, second = int(v[4]), int(v[5]), int(v[6])
	}
	if len(v) == 11 {
		micro = int(binary.LittleEndian.Uint32(v[7:]))
	}
	b = append(b, ' ')
	return appendClock(b, hour, minute, second, micro, decimals), nil
}

// appendTime prints a binary TIME (negative [1] days [32 bit] hour minute
// second [micro 32 bit], or nothing for zero) as [-]hh:mm:ss[.ffffff],
// the hours counting the days.
func appendTime(b, v []byte, decimals uint8) ([]byte, error) {
	var hours, minute, second, micro int
	switch len(v) {
	case 0:
	case 8, 12:
		if v[0] == 1 {
			b = append(b, '-')
		}
		hours = int(binary.LittleEndian.Uint32(v[1:]))*24 + int(v[5])
		minute, second = int(v[6]), int(v[7])
		if len(v) == 12 {
			micro = int(binary.LittleEndian.Uint32(v[8:]))
		}
	default:
		return nil, ErrMalformed
	}
	return appendClock(b, hours, minute, second, micro, decimals), nil
}

// appendClock prints hh:mm:ss and, for a column with fractional seconds,
// that many digits of them (a computed value of unknown scale shows all
// six when it has a fraction).
func appendClock(b []byte, hour, minute, second, micro int, decimals uint8) []byte {
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, second, 2)
	digits := int(decimals)
	if digits > 6 {
		digits = 0
		if micro != 0 {
			digits = 6
		}
	}
	if digits == 0 {
		return b
	}
	var frac [6]byte
	appendDigits(frac[:0], micro, 6)
	b = append(b, '.')
	return append(b, frac[:digits]...)
}

// appendDigits appends n in decimal, zero-padded to at least width digits.
func appendDigits(b []byte, n, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
