package fastjson

import (
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// decoder decodes one JSON document into a value, or gives up with
// errFallback. It is a recursive descent over the bytes: every value is
// checked against the JSON grammar as it is read, so a document it
// accepts is one json.Unmarshal accepts too.
type decoder struct {
	data []byte
	pos  int
}

// maxDepth bounds nesting, below encoding/json's own limit (10000).
const maxDepth = 1000

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next byte, or 0 at the end.
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// value decodes the value at d.pos (no leading space) into v.
func (d *decoder) value(v reflect.Value) error { return d.valueAt(v, 0) }

func (d *decoder) valueAt(v reflect.Value, depth int) error {
	if depth > maxDepth {
		return errFallback
	}
	t := v.Type()
	if d.peek() == 'n' {
		if !d.literal("null") {
			return errFallback
		}
		// Fields start zero: a null leaves them so, as json.Unmarshal
		// does (it sets pointers, slices and maps to nil).
		return nil
	}
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		if err := d.valueAt(p.Elem(), depth+1); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	ti := info(t)
	if ti.special {
		if t != timeType {
			return errFallback
		}
		start := d.pos
		if err := d.skipValue(depth); err != nil {
			return err
		}
		if err := v.Addr().Interface().(*time.Time).UnmarshalJSON(d.data[start:d.pos]); err != nil {
			return errFallback
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if !ti.ok {
			return errFallback
		}
		return d.object(depth, func(key string) error {
			i, ok := ti.byName[key]
			if ok {
				return d.valueAt(v.FieldByIndex(ti.fields[i].index), depth+1)
			}
			for _, f := range ti.fields {
				if strings.EqualFold(f.name, key) {
					return errFallback
				}
			}
			return d.skipValue(depth + 1)
		})
	case reflect.Map:
		kt, et := t.Key(), t.Elem()
		if kt.Kind() != reflect.String || info(kt).special {
			return errFallback
		}
		m := reflect.MakeMap(t)
		err := d.object(depth, func(key string) error {
			e := reflect.New(et).Elem()
			if err := d.valueAt(e, depth+1); err != nil {
				return err
			}
			k := reflect.New(kt).Elem()
			k.SetString(key)
			m.SetMapIndex(k, e)
			return nil
		})
		if err != nil {
			return err
		}
		v.Set(m)
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return errFallback // base64
		}
		return d.array(v, depth)
	case reflect.String:
		s, err := d.str()
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		switch {
		case d.literal("true"):
			v.SetBool(true)
		case d.literal("false"):
		default:
			return errFallback
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s, err := d.number()
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return errFallback
		}
		v.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s, err := d.number()
		if err != nil {
			return err
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return errFallback
		}
		v.SetUint(n)
		return nil
	}
	return errFallback // floats, interfaces, arrays, channels...
}

// object decodes a JSON object, calling member for each member with the
// decoder at its value, which member must consume. A repeated key gives
// up: encoding/json merges a repeated struct member into the first one's
// value.
func (d *decoder) object(depth int, member func(key string) error) error {
	if d.peek() != '{' {
		return errFallback
	}
	d.pos++
	d.skipSpace()
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	seen := map[string]bool{}
	for {
		if d.peek() != '"' {
			return errFallback
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if seen[key] {
			return errFallback
		}
		seen[key] = true
		d.skipSpace()
		if d.peek() != ':' {
			return errFallback
		}
		d.pos++
		d.skipSpace()
		if err := member(key); err != nil {
			return err
		}
		d.skipSpace()
		switch d.peek() {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			return nil
		default:
			return errFallback
		}
	}
}

// array decodes a JSON array into slice v; [] gives an empty, non-nil
// slice, as json.Unmarshal does.
func (d *decoder) array(v reflect.Value, depth int) error {
	if d.peek() != '[' {
		return errFallback
	}
	d.pos++
	d.skipSpace()
	s := reflect.MakeSlice(v.Type(), 0, 0)
	if d.peek() == ']' {
		d.pos++
		v.Set(s)
		return nil
	}
	et := v.Type().Elem()
	for {
		e := reflect.New(et).Elem()
		if err := d.valueAt(e, depth+1); err != nil {
			return err
		}
		s = reflect.Append(s, e)
		d.skipSpace()
		switch d.peek() {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			v.Set(s)
			return nil
		default:
			return errFallback
		}
	}
}

// skipValue checks and skips one value.
func (d *decoder) skipValue(depth int) error {
	if depth > maxDepth {
		return errFallback
	}
	switch c := d.peek(); {
	case c == '"':
		_, err := d.str()
		return err
	case c == '-' || '0' <= c && c <= '9':
		_, err := d.number()
		return err
	case c == 't':
		return okLiteral(d.literal("true"))
	case c == 'f':
		return okLiteral(d.literal("false"))
	case c == 'n':
		return okLiteral(d.literal("null"))
	case c == '{':
		return d.object(depth, func(string) error { return d.skipValue(depth + 1) })
	case c == '[':
		d.pos++
		d.skipSpace()
		if d.peek() == ']' {
			d.pos++
			return nil
		}
		for {
			if err := d.skipValue(depth + 1); err != nil {
				return err
			}
			d.skipSpace()
			switch d.peek() {
			case ',':
				d.pos++
				d.skipSpace()
			case ']':
				d.pos++
				return nil
			default:
				return errFallback
			}
		}
	}
	return errFallback
}

func okLiteral(ok bool) error {
	if !ok {
		return errFallback
	}
	return nil
}

// literal consumes lit if it is next.
func (d *decoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// number consumes a number per the JSON grammar and returns its text.
func (d *decoder) number() (string, error) {
	start := d.pos
	if d.peek() == '-' {
		d.pos++
	}
	switch c := d.peek(); {
	case c == '0':
		d.pos++
	case '1' <= c && c <= '9':
		for d.pos++; isDigit(d.peek()); d.pos++ {
		}
	default:
		return "", errFallback
	}
	if d.peek() == '.' {
		d.pos++
		if !isDigit(d.peek()) {
			return "", errFallback
		}
		for ; isDigit(d.peek()); d.pos++ {
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if !isDigit(d.peek()) {
			return "", errFallback
		}
		for ; isDigit(d.peek()); d.pos++ {
		}
	}
	return string(d.data[start:d.pos]), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// str consumes a string and returns its value. It gives up on what
// json.Unmarshal would repair (invalid UTF-8, lone or paired surrogate
// escapes), and on control characters, which are a syntax error.
func (d *decoder) str() (string, error) {
	if d.peek() != '"' {
		return "", errFallback
	}
	d.pos++
	start := d.pos
	// The common case: no escapes.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := d.data[start:d.pos]
			d.pos++
			if !utf8.Valid(s) {
				return "", errFallback
			}
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		d.pos++
	}
	out := append([]byte(nil), d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if !utf8.Valid(out) {
				return "", errFallback
			}
			return string(out), nil
		case c < 0x20:
			return "", errFallback
		case c != '\\':
			out = append(out, c)
			d.pos++
			continue
		}
		d.pos++
		if d.pos >= len(d.data) {
			return "", errFallback
		}
		switch e := d.data[d.pos]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if len(d.data)-d.pos < 5 {
				return "", errFallback
			}
			r, err := strconv.ParseUint(string(d.data[d.pos+1:d.pos+5]), 16, 32)
			if err != nil || 0xd800 <= r && r < 0xe000 {
				return "", errFallback
			}
			out = utf8.AppendRune(out, rune(r))
			d.pos += 4
		default:
			return "", errFallback
		}
		d.pos++
	}
	return "", errFallback
}
