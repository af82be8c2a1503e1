package fastjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Every test compares this package with encoding/json, the reference.

// strs are strings that exercise escaping and validity rules.
var strs = []string{
	"", "a", "/bin/sh", "with space", `quote"back\slash`, "<html>&amp;", "tab\tnl\ncr\r",
	"\b\f\x00\x01\x1f\x7f", "é ü 漢字 🙂", "\u2028\u2029", "bad\xffutf8", "\xed\xa0\x80",
	"ſ", "K", "PATH=/usr/bin:/bin",
}

// filler fills values of any type with pseudo-random content.
type filler struct {
	r *rand.Rand
}

func (f *filler) fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if f.r.Intn(4) == 0 || depth > 8 {
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.Unix(f.r.Int63n(4e9), f.r.Int63n(1e9)).UTC()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && f.r.Intn(3) != 0 {
				f.fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		switch f.r.Intn(4) {
		case 0:
			return // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			return
		}
		n := 1 + f.r.Intn(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		switch f.r.Intn(4) {
		case 0:
			return
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 1+f.r.Intn(4); i++ {
			k := reflect.New(v.Type().Key()).Elem()
			f.fill(k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(strs[f.r.Intn(len(strs))])
	case reflect.Bool:
		v.SetBool(f.r.Intn(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		switch f.r.Intn(4) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(-1 << (bits - 1))
		case 2:
			v.SetInt(1<<(bits-1) - 1)
		default:
			v.SetInt(f.r.Int63n(1000) - 500)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		bits := v.Type().Bits()
		switch f.r.Intn(3) {
		case 0:
			v.SetUint(0)
		case 1:
			v.SetUint(math.MaxUint64 >> (64 - bits))
		default:
			v.SetUint(uint64(f.r.Int63n(1000)))
		}
	}
}

// state is shaped like runsc's state file: a time, a spec, a map.
type state struct {
	ID      string            `json:"id"`
	Created time.Time         `json:"created"`
	Spec    *specs.Spec       `json:"spec"`
	Paths   map[string]string `json:"paths,omitempty"`
	Owner   int               `json:"owner"`
	Skipped string            `json:"-"`
	Dash    string            `json:"-,"`
	hidden  int
	Embedded
}

// Embedded is promoted into state, as encoding/json does.
type Embedded struct {
	Depth uint16 `json:"depth,omitempty"`
	Name  string
}

func checkRoundTrip[T any](t *testing.T, x *T) {
	t.Helper()
	want, werr := json.Marshal(x)
	got, gerr := Marshal(x)
	if (werr == nil) != (gerr == nil) || !bytes.Equal(want, got) {
		t.Fatalf("Marshal:\n got %s (%v)\nwant %s (%v)", got, gerr, want, werr)
	}
	var a, b T
	aerr := json.Unmarshal(want, &a)
	berr := Unmarshal(want, &b)
	if (aerr == nil) != (berr == nil) || !reflect.DeepEqual(a, b) {
		t.Fatalf("Unmarshal of %s:\n got %+v (%v)\nwant %+v (%v)", want, b, berr, a, aerr)
	}
}

func TestRandomValues(t *testing.T) {
	f := &filler{r: rand.New(rand.NewSource(1))}
	for i := 0; i < 300; i++ {
		var sp specs.Spec
		f.fill(reflect.ValueOf(&sp).Elem(), 0)
		checkRoundTrip(t, &sp)
		var st state
		f.fill(reflect.ValueOf(&st).Elem(), 0)
		st.hidden = 0
		checkRoundTrip(t, &st)
	}
}

// TestFastPathTaken checks that the values runsc exchanges do not fall
// back: the point of the package.
func TestFastPathTaken(t *testing.T) {
	sp := &specs.Spec{Version: "1.0.2", Process: &specs.Process{Args: []string{"/bin/true"}, Cwd: "/", Env: []string{"A=<b>"}},
		Root:  &specs.Root{Path: "/rootfs"},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: "pid"}}, Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}},
	}
	st := &state{ID: "x", Created: time.Now(), Spec: sp, Paths: map[string]string{"b": "1", "a": "2"}}
	var e encoder
	if err := e.value(reflect.ValueOf(st)); err != nil {
		t.Fatalf("encoding a state fell back: %v", err)
	}
	var back state
	d := decoder{data: e.buf}
	if err := d.value(reflect.ValueOf(&back).Elem()); err != nil {
		t.Fatalf("decoding a state fell back: %v", err)
	}
	if !back.Created.Equal(st.Created) || back.Spec.Process.Env[0] != "A=<b>" || back.Paths["a"] != "2" {
		t.Errorf("decoded %+v", back)
	}
}

// docs are hand-written documents, each decoded by both packages.
var docs = []string{
	`{}`, `null`, ` {"ociVersion":"1.0.2"} `, `{"ociVersion":"1"}x`, `{"ociVersion":1}`,
	`{"OCIVERSION":"1"}`, `{"ociversion":"1"}`, `{"ociVersion":"a","ociVersion":"b"}`,
	`{"process":{"cwd":"/a"},"process":{"terminal":true}}`,
	`{"process":null,"root":{"path":"/r","readonly":true}}`,
	`{"process":{"user":{"uid":4294967295,"gid":4294967296}}}`,
	`{"process":{"user":{"uid":-1}}}`, `{"process":{"user":{"uid":1.0}}}`, `{"process":{"user":{"uid":1e3}}}`,
	`{"process":{"oomScoreAdj":-1000}}`, `{"process":{"oomScoreAdj":-9223372036854775809}}`,
	`{"process":{"args":[]}}`, `{"process":{"args":null}}`, `{"process":{"args":["a",null,"b"]}}`,
	`{"annotations":{}}`, `{"annotations":{"k":"v","k":"w"}}`, `{"annotations":{"k":null}}`,
	`{"hostname":"\u00e9\u003c\ud83d\ude00"}`, `{"hostname":"\ud800"}`, `{"hostname":"a\/b\"c\\"}`,
	`{"hostname":"bad` + "\xff" + `"}`, `{"hostname":"ctl` + "\x01" + `"}`, `{"hostname":"\x"}`,
	`{"unknown":{"deep":[1,2,{"x":[true,false,null]}],"n":-0.5e+10}}`, `{"unknown":01}`, `{"unknown":1.}`,
	`{"linux":{"resources":{"memory":{"limit":9223372036854775807}}}}`,
	`{"linux":{"resources":{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":10}]}}}}`,
	`{"windows":{"credentialSpec":{"a":1}}}`, `{"mounts":[{"destination":"/x","options":["ro"]}]}`,
	`{"process":{"terminal":tru}}`, `{"process":{"terminal":"true"}}`, `[`, ``, `{"a":}`, `{"a" 1}`, `{,}`,
	strings.Repeat(`{"unknown":`, 2000) + "1" + strings.Repeat("}", 2000),
}

func checkDoc(t *testing.T, doc []byte) {
	var a, b specs.Spec
	aerr := json.Unmarshal(doc, &a)
	berr := Unmarshal(doc, &b)
	if (aerr == nil) != (berr == nil) {
		t.Fatalf("%q: encoding/json says %v, fastjson %v", doc, aerr, berr)
	}
	if aerr != nil && aerr.Error() != berr.Error() {
		t.Fatalf("%q: errors differ: %v / %v", doc, aerr, berr)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("%q:\n got %+v\nwant %+v", doc, b, a)
	}
}

func TestDocuments(t *testing.T) {
	for _, d := range docs {
		checkDoc(t, []byte(d))
	}
}

func TestNonZeroTarget(t *testing.T) {
	// Merging into an existing value is encoding/json's business.
	a := specs.Spec{Hostname: "h", Process: &specs.Process{Cwd: "/a"}}
	b := a
	b.Process = &specs.Process{Cwd: "/a"}
	doc := []byte(`{"process":{"terminal":true}}`)
	json.Unmarshal(doc, &a)
	Unmarshal(doc, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("got %+v, want %+v", b, a)
	}
}

func TestUnsupportedFallsBack(t *testing.T) {
	type odd struct {
		F float64         `json:"f"`
		B []byte          `json:"b"`
		A [2]int          `json:"a"`
		I any             `json:"i"`
		S int             `json:"s,string"`
		N json.RawMessage `json:"n"`
		M map[int]string  `json:"m"`
	}
	x := &odd{F: 1.5, B: []byte("hi"), A: [2]int{1, 2}, I: map[string]any{"x": 1.0}, S: 3, N: json.RawMessage(`{"z":1}`), M: map[int]string{2: "b"}}
	checkRoundTrip(t, x)
}

func FuzzUnmarshal(f *testing.F) {
	for _, d := range docs {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkDoc(t, doc)
	})
}

func BenchmarkColdSpec(b *testing.B) {
	doc, _ := json.Marshal(&specs.Spec{Process: &specs.Process{Args: []string{"a"}}})
	for i := 0; i < b.N; i++ {
		var s specs.Spec
		if err := Unmarshal(doc, &s); err != nil {
			b.Fatal(err)
		}
	}
	_ = fmt.Sprint
}
