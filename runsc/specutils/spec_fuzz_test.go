package specutils

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadSpec feeds arbitrary bytes to the spec decoder, normaliser and
// validator: they never panic, every error is one line, every validation
// error wraps ErrInvalidSpec, and a spec they accept survives a JSON round
// trip and validates again.
func FuzzReadSpec(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("{"))
	f.Add([]byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"}}`))
	if b, err := json.Marshal(DefaultSpec(false, 0, 0)); err == nil {
		f.Add(b)
	}
	bundle := f.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := decode(bytes.NewReader(data))
		if err == nil {
			if err = Normalize(spec, bundle); err == nil {
				err = Validate(spec)
			}
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans several lines: %q", err)
			}
			if !errors.Is(err, ErrInvalidSpec) && !strings.Contains(err.Error(), "root.path") {
				t.Fatalf("error %q does not wrap ErrInvalidSpec", err)
			}
			return
		}
		again, err := json.Marshal(spec)
		if err != nil {
			t.Fatalf("re-encoding an accepted spec: %v", err)
		}
		spec2, err := decode(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("re-decoding an accepted spec: %v", err)
		}
		if err := Validate(spec2); err != nil {
			t.Fatalf("an accepted spec does not validate after a round trip: %v", err)
		}
	})
}
