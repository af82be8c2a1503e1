package config

import (
	"flag"
	"reflect"
	"testing"
)

func TestFlagsRoundTrip(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"--root=/tmp/r", "--log=/tmp/l.json", "--log-format=json", "--debug", "--debug-log=/tmp/d/", "--systemd-cgroup", "--rootless=false"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.RootDir != "/tmp/r" || c.LogFilename != "/tmp/l.json" || c.LogFormat != "json" || !c.Debug || c.DebugLog != "/tmp/d/" || !c.SystemdCgroup || c.Rootless {
		t.Fatalf("parsed %+v", c)
	}
	var d Config
	fs2 := flag.NewFlagSet("y", flag.ContinueOnError)
	d.RegisterFlags(fs2)
	if err := fs2.Parse(c.ToFlags()); err != nil {
		t.Fatal(err)
	}
	d.Validate()
	c.LogFilename = "" // Not passed to children.
	if !reflect.DeepEqual(c, d) {
		t.Fatalf("round trip: %+v != %+v", c, d)
	}
}

func TestValidate(t *testing.T) {
	c := Config{RootDir: "/x", LogFormat: "xml"}
	if err := c.Validate(); err == nil {
		t.Fatal("bad --log-format accepted")
	}
	c = Config{RootDir: "rel", LogFormat: "text"}
	if err := c.Validate(); err != nil || c.RootDir[0] != '/' {
		t.Fatalf("relative root not made absolute: %q %v", c.RootDir, err)
	}
	c = Config{RootDir: "", LogFormat: "text"}
	if err := c.Validate(); err == nil {
		t.Fatal("empty root accepted")
	}
}

func TestDefaultRootDir(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	got := DefaultRootDir()
	if want := "/var/run/runsc"; got != want && got != "/run/user/1000/runsc" {
		t.Fatalf("DefaultRootDir() = %q", got)
	}
}
