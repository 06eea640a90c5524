package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// AppendBinaryRow appends a row of text-protocol values in the binary
// protocol: [0x00] null_bitmap [(n+7+2)/8 bytes, offset 2] values.
// The conversion is driven by each column's type, as MySQL's own binary
// result rows are.
func AppendBinaryRow(data []byte, fields []*mysql.Field, row [][]byte) ([]byte, error) {
	data = append(data, 0x00)
	bitmapAt := len(data)
	for i := 0; i < (len(fields)+7+2)>>3; i++ {
		data = append(data, 0)
	}
	var err error
	for i, v := range row {
		if v == nil {
			pos := i + 2
			data[bitmapAt+pos>>3] |= 1 << (pos & 7)
			continue
		}
		if data, err = appendBinaryValue(data, fields[i], v); err != nil {
			return nil, err
		}
	}
	return data, nil
}

func appendBinaryValue(data []byte, f *mysql.Field, v []byte) ([]byte, error) {
	unsigned := f.Flag&mysql.UNSIGNED_FLAG != 0
	switch f.Type {
	case mysql.MYSQL_TYPE_TINY:
		n, err := parseInteger(v, unsigned, 8)
		return append(data, byte(n)), err
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		n, err := parseInteger(v, unsigned, 16)
		return binary.LittleEndian.AppendUint16(data, uint16(n)), err
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG:
		n, err := parseInteger(v, unsigned, 32)
		return binary.LittleEndian.AppendUint32(data, uint32(n)), err
	case mysql.MYSQL_TYPE_LONGLONG:
		n, err := parseInteger(v, unsigned, 64)
		return binary.LittleEndian.AppendUint64(data, n), err
	case mysql.MYSQL_TYPE_FLOAT:
		x, err := strconv.ParseFloat(string(v), 32)
		return binary.LittleEndian.AppendUint32(data, math.Float32bits(float32(x))), err
	case mysql.MYSQL_TYPE_DOUBLE:
		x, err := strconv.ParseFloat(string(v), 64)
		return binary.LittleEndian.AppendUint64(data, math.Float64bits(x)), err
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
		return appendBinaryDateTime(data, v)
	case mysql.MYSQL_TYPE_TIME:
		return appendBinaryTime(data, v)
	default:
		// DECIMAL, strings, blobs, BIT, ENUM, SET, JSON, GEOMETRY: the same
		// bytes as in the text protocol, length-encoded.
		data = mysql.AppendLengthEncodedInteger(data, uint64(len(v)))
		return append(data, v...), nil
	}
}

func parseInteger(v []byte, unsigned bool, bits int) (uint64, error) {
	if unsigned {
		return strconv.ParseUint(string(v), 10, bits)
	}
	n, err := strconv.ParseInt(string(v), 10, bits)
	return uint64(n), err
}

// appendBinaryDateTime encodes 'YYYY-MM-DD[ hh:mm:ss[.ffffff]]' as
// length [1] year [16 bit] month day [hour minute second [micro 32 bit]],
// using the shortest form that keeps every non-zero part (as MySQL does).
func appendBinaryDateTime(data []byte, v []byte) ([]byte, error) {
	var year, month, day, hour, minute, second, micro int
	s := string(v)
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return nil, fmt.Errorf("wire: bad DATETIME value %q", s)
	}
	year, month, day = atoiDigits(s[0:4]), atoiDigits(s[5:7]), atoiDigits(s[8:10])
	if len(s) >= 19 {
		hour, minute, second = atoiDigits(s[11:13]), atoiDigits(s[14:16]), atoiDigits(s[17:19])
		if len(s) > 20 && s[19] == '.' {
			micro = fractionMicros(s[20:])
		}
	}
	var length byte
	switch {
	case micro != 0:
		length = 11
	case hour != 0 || minute != 0 || second != 0:
		length = 7
	case year != 0 || month != 0 || day != 0:
		length = 4
	}
	data = append(data, length)
	if length == 0 {
		return data, nil
	}
	data = binary.LittleEndian.AppendUint16(data, uint16(year))
	data = append(data, byte(month), byte(day))
	if length == 4 {
		return data, nil
	}
	data = append(data, byte(hour), byte(minute), byte(second))
	if micro != 0 {
		data = binary.LittleEndian.AppendUint32(data, uint32(micro))
	}
	return data, nil
}

// appendBinaryTime encodes '[-]hhh:mm:ss[.ffffff]' as length [1] negative [1]
// days [32 bit] hour minute second [micro 32 bit].
func appendBinaryTime(data []byte, v []byte) ([]byte, error) {
	s := string(v)
	negative := false
	if len(s) > 0 && s[0] == '-' {
		negative, s = true, s[1:]
	}
	var hours, minute, second, micro int
	n, err := fmt.Sscanf(s, "%d:%d:%d", &hours, &minute, &second)
	if err != nil || n != 3 {
		return nil, fmt.Errorf("wire: bad TIME value %q", string(v))
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			micro = fractionMicros(s[i+1:])
			break
		}
	}
	if hours == 0 && minute == 0 && second == 0 && micro == 0 {
		return append(data, 0), nil
	}
	if micro != 0 {
		data = append(data, 12)
	} else {
		data = append(data, 8)
	}
	neg := byte(0)
	if negative {
		neg = 1
	}
	data = append(data, neg)
	data = binary.LittleEndian.AppendUint32(data, uint32(hours/24))
	data = append(data, byte(hours%24), byte(minute), byte(second))
	if micro != 0 {
		data = binary.LittleEndian.AppendUint32(data, uint32(micro))
	}
	return data, nil
}

func atoiDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// fractionMicros turns the digits after the decimal point into microseconds.
func fractionMicros(frac string) int {
	micro := 0
	for i := 0; i < 6; i++ {
		micro *= 10
		if i < len(frac) && frac[i] >= '0' && frac[i] <= '9' {
			micro += int(frac[i] - '0')
		}
	}
	return micro
}
