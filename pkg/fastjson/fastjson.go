// Package fastjson encodes and decodes Go values as JSON with the results
// of encoding/json, for the plain data types runsc exchanges (structs,
// pointers, slices, string-keyed maps, strings, bools and integers), and
// hands anything else to encoding/json.
//
// Why it exists: the first time encoding/json meets a type it builds the
// encoder of every type reachable from it (typeFields computes each
// field's encoder), even to decode. An OCI spec reaches a few hundred
// types (Windows, Solaris, VM, z/OS, every cgroup controller), and every
// runsc process paid about 1 ms of CPU for that before its first
// message: create, the sandbox, the gofer, init, the exec stage, and every
// start, state or delete that reads a state file. This package looks at a
// type's fields only when a value of that type is met, which for a
// typical spec is a few dozen types, and costs a tenth of that.
//
// Exactness: Marshal's output is byte for byte json.Marshal's (HTML
// escaping, sorted map keys, omitempty). Unmarshal gives the value
// json.Unmarshal gives, or, for anything it does not reproduce exactly,
// falls back to json.Unmarshal itself: a duplicate key, a key that matches
// a field only case-insensitively, a value of the wrong JSON type, an
// integer out of range, invalid UTF-8 or a surrogate escape in a string, a
// non-zero target, floats, interfaces, and types with their own JSON or
// text methods (time.Time excepted, whose methods are called). The tests
// compare both packages on the specs, states and messages runsc writes
// and on fuzzed input.
package fastjson

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"time"
)

// errFallback makes Marshal and Unmarshal hand the value to encoding/json.
var errFallback = errors.New("fastjson: not handled")

// Marshal returns the encoding of v, identical to json.Marshal(v).
func Marshal(v any) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 512)}
	if err := e.value(reflect.ValueOf(v)); err != nil {
		return json.Marshal(v)
	}
	return e.buf, nil
}

// Unmarshal decodes data into v as json.Unmarshal(data, v) does.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !rv.Elem().IsZero() {
		return json.Unmarshal(data, v)
	}
	// Decoded into a fresh value: a half-done decode must not leak into v.
	tmp := reflect.New(rv.Elem().Type())
	d := decoder{data: data}
	d.skipSpace()
	if err := d.value(tmp.Elem()); err != nil {
		return json.Unmarshal(data, v)
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return json.Unmarshal(data, v)
	}
	rv.Elem().Set(tmp.Elem())
	return nil
}

// field is one JSON member of a struct type.
type field struct {
	name      string
	index     []int // as for reflect.Value.FieldByIndex
	omitEmpty bool
	// header is `"name":`, as json.Marshal writes it.
	header string
}

// typeInfo is what this package knows of a type.
type typeInfo struct {
	// special is set for types with JSON or text methods of their own.
	special bool
	// ok is false for a struct whose fields this package cannot handle.
	ok     bool
	fields []field
	byName map[string]int
}

var (
	typesMu sync.RWMutex
	types   = map[reflect.Type]*typeInfo{}

	marshalerType       = reflect.TypeFor[json.Marshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType            = reflect.TypeFor[time.Time]()
)

// info returns the type information of t, built on first use.
func info(t reflect.Type) *typeInfo {
	typesMu.RLock()
	ti := types[t]
	typesMu.RUnlock()
	if ti != nil {
		return ti
	}
	ti = buildInfo(t)
	typesMu.Lock()
	types[t] = ti
	typesMu.Unlock()
	return ti
}

func buildInfo(t reflect.Type) *typeInfo {
	pt := reflect.PointerTo(t)
	for _, m := range []reflect.Type{marshalerType, unmarshalerType, textMarshalerType, textUnmarshalerType} {
		if t.Implements(m) || pt.Implements(m) {
			return &typeInfo{special: true}
		}
	}
	ti := &typeInfo{ok: true}
	if t.Kind() != reflect.Struct {
		return ti
	}
	if !addFields(ti, t, nil) {
		return &typeInfo{}
	}
	ti.byName = make(map[string]int, len(ti.fields))
	for i, f := range ti.fields {
		if _, dup := ti.byName[f.name]; dup {
			// encoding/json's dominance rules decide: leave it to them.
			return &typeInfo{}
		}
		ti.byName[f.name] = i
	}
	return ti
}

// addFields appends the JSON fields of struct type t, reached through
// index, flattening untagged embedded structs (not pointers to them) as
// encoding/json does. It reports false for anything it does not handle.
func addFields(ti *typeInfo, t reflect.Type, index []int) bool {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := cutComma(tag)
		idx := append(append([]int(nil), index...), i)
		if sf.Anonymous {
			if name != "" || sf.Type.Kind() != reflect.Struct || !sf.IsExported() {
				return false
			}
			if !addFields(ti, sf.Type, idx) {
				return false
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		f := field{name: sf.Name, index: idx}
		if name != "" {
			f.name = name
		}
		for opts != "" {
			var o string
			o, opts, _ = cutComma(opts)
			switch o {
			case "omitempty":
				f.omitEmpty = true
			case "":
			default: // string, omitzero, and what may come
				return false
			}
		}
		if !plainName(f.name) {
			return false
		}
		f.header = `"` + f.name + `":`
		ti.fields = append(ti.fields, f)
	}
	return true
}

func cutComma(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// plainName reports whether a JSON member name needs no escaping (and
// folds only to names of ASCII letters, digits, '-' and '_').
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
