package log

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestJSONEmitterGolden(t *testing.T) {
	var b bytes.Buffer
	ts := time.Date(2026, 11, 27, 6, 7, 8, 0, time.UTC)
	JSONEmitter{W: &b}.Emit(Error, ts, `container "x" does not exist`)
	JSONEmitter{W: &b}.Emit(Warning, ts, "a\nb")
	want := `{"level":"error","msg":"container \"x\" does not exist","time":"2026-11-27T06:07:08Z"}` + "\n" +
		`{"level":"warning","msg":"a\nb","time":"2026-11-27T06:07:08Z"}` + "\n"
	if got := b.String(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]string
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not one JSON object: %v", line, err)
		}
		if len(m) != 3 {
			t.Errorf("line %q has %d keys, want level, msg, time", line, len(m))
		}
	}
}

func TestJSONTimeIsRFC3339InUTC(t *testing.T) {
	var b bytes.Buffer
	loc := time.FixedZone("X", 3600)
	JSONEmitter{W: &b}.Emit(Info, time.Date(2026, 1, 2, 3, 4, 5, 0, loc), "m")
	var m map[string]string
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339, m["time"]); err != nil || m["time"] != "2026-01-02T02:04:05Z" {
		t.Fatalf("time = %q (%v)", m["time"], err)
	}
}

func TestLevelFiltering(t *testing.T) {
	var b bytes.Buffer
	l := &Logger{level: Info, emitter: JSONEmitter{W: &b}}
	l.Logf(Debug, "hidden")
	l.Logf(Info, "shown %d", 1)
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), "shown 1") {
		t.Fatalf("unexpected output %q", b.String())
	}
	if l.IsLogging(Debug) || !l.IsLogging(Warning) {
		t.Fatal("IsLogging disagrees with level")
	}
	l.SetLevel(Debug)
	l.Logf(Debug, "now shown")
	if !strings.Contains(b.String(), "now shown") {
		t.Fatalf("debug not emitted after SetLevel: %q", b.String())
	}
	l.SetEmitter(nil)
	l.Logf(Error, "dropped") // Must not panic.
}

func TestTextEmitter(t *testing.T) {
	var b bytes.Buffer
	TextEmitter{W: &b}.Emit(Warning, time.Date(2026, 11, 27, 6, 7, 8, 9000, time.UTC), "careful")
	if got := b.String(); !strings.HasPrefix(got, "W 1127 06:07:08.000009 [") || !strings.HasSuffix(got, "] careful\n") {
		t.Fatalf("got %q", got)
	}
}

func TestMultiEmitter(t *testing.T) {
	var a, b bytes.Buffer
	MultiEmitter{TextEmitter{W: &a}, JSONEmitter{W: &b}}.Emit(Info, time.Now(), "both")
	if !strings.Contains(a.String(), "both") || !strings.Contains(b.String(), `"msg":"both"`) {
		t.Fatalf("a=%q b=%q", a.String(), b.String())
	}
}

func TestDebugLogPath(t *testing.T) {
	now := time.Date(2026, 11, 27, 6, 7, 8, 123456000, time.UTC)
	for _, tc := range []struct{ pattern, want string }{
		{"/tmp/runsc.log", "/tmp/runsc.log"},
		{"/tmp/logs/", "/tmp/logs/runsc.log.20261127-060708.123456.create"},
		{"/l/%COMMAND%-%TIMESTAMP%.txt", "/l/create-20261127-060708.123456.txt"},
	} {
		if got := DebugLogPath(tc.pattern, "create", now); got != tc.want {
			t.Errorf("DebugLogPath(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
}

func TestOpenLogFileAppends(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "log.json")
	for i := 0; i < 2; i++ {
		f, err := OpenLogFile(p)
		if err != nil {
			t.Fatal(err)
		}
		JSONEmitter{W: f}.Emit(Error, time.Now(), "x")
		f.Close()
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Fatalf("log has %d lines, want 2 (append)", n)
	}
}

func TestSpanAndMark(t *testing.T) {
	var buf bytes.Buffer
	l := Default()
	l.SetEmitter(TextEmitter{W: &buf})
	defer l.SetEmitter(nil)
	l.SetLevel(Info)
	Span("quiet")()
	Mark("quiet")
	if buf.Len() != 0 {
		t.Fatalf("spans logged below debug: %q", buf.String())
	}
	l.SetLevel(Debug)
	defer l.SetLevel(Info)
	end := Span("create/spec")
	time.Sleep(2 * time.Millisecond)
	end()
	Mark("ready")
	out := buf.String()
	re := regexp.MustCompile(`span create/spec: (\d+\.\d\d) ms \(at \d+\.\d\d ms\)\n.*mark ready \(at \d+\.\d\d ms\)\n$`)
	m := re.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("log %q does not match %v", out, re)
	}
	if d, _ := strconv.ParseFloat(m[1], 64); d < 2 {
		t.Errorf("span of a 2 ms sleep logged %s ms", m[1])
	}
}
