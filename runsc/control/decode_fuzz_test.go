package control

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bodies to Decode: it never panics, never
// returns a message without a type, never attaches files (those come only
// from SCM_RIGHTS), and what it accepts re-encodes and decodes to the same
// message.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"type":"start"}`,
		`{"type":"ready","pid":12,"goferPid":13}`,
		`{"type":"exec","process":{"args":["sh"],"cwd":"/"},"files":["stdin","stdout"]}`,
		`{"type":"error","err":"boom"}`,
		`{"type":""}`, `{}`, `null`, `[]`, `{"type":1}`, `{"pid":"x"}`, ``, `{"type":"wait","pid":-1,"status":999999999999}`,
		strings.Repeat("[", 10000),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Decode(body)
		if err != nil {
			if m != nil {
				t.Fatalf("Decode returned both a message and an error")
			}
			return
		}
		if m.Type == "" {
			t.Fatalf("Decode(%q) accepted a message without a type", body)
		}
		if len(m.Files) != 0 {
			t.Fatalf("Decode attached files")
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		m2, err := Decode(b)
		if err != nil {
			t.Fatalf("re-decoding %q: %v", b, err)
		}
		b2, _ := json.Marshal(m2)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed the message: %s -> %s", b, b2)
		}
	})
}
