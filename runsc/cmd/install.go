package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/subcommands"
)

// defaultDockerConfig is where Docker reads its daemon configuration.
const defaultDockerConfig = "/etc/docker/daemon.json"

// reloadHint tells the user how to make a running dockerd see the change:
// dockerd reloads its runtimes on SIGHUP.
const reloadHint = "dockerd must reload its configuration to see the change: `kill -HUP $(pidof dockerd)` or `systemctl reload docker`\n"

// Install registers runsc as a runtime in Docker's daemon.json.
type Install struct {
	// configFile is the daemon.json to edit.
	configFile string
	// runtime is the name the runtime is registered under.
	runtime string
}

// Name implements subcommands.Command.
func (*Install) Name() string { return "install" }

// Synopsis implements subcommands.Command.
func (*Install) Synopsis() string { return "add this runsc as a runtime in Docker's daemon.json" }

// Usage implements subcommands.Command.
func (*Install) Usage() string {
	return `install [--runtime NAME] [--config-file FILE] [-- RUNTIME_ARGS...] - register this
binary (its absolute path) as Docker runtime NAME, with RUNTIME_ARGS passed
before every command. Other keys of FILE are kept; FILE is created if missing.
`
}

// SetFlags implements subcommands.Command.
func (i *Install) SetFlags(f *flag.FlagSet) {
	f.StringVar(&i.configFile, "config-file", defaultDockerConfig, "path to Docker's daemon.json.")
	f.StringVar(&i.runtime, "runtime", "runsc", "name of the runtime to add.")
}

// Execute implements subcommands.Command.
func (i *Install) Execute(_ context.Context, f *flag.FlagSet, _ ...any) subcommands.ExitStatus {
	if i.runtime == "" {
		return usageError(i, "--runtime must not be empty")
	}
	self, err := os.Executable()
	if err != nil {
		return Errorf("finding the runsc binary: %v", err)
	}
	if self, err = filepath.Abs(self); err != nil {
		return Errorf("finding the runsc binary: %v", err)
	}
	data, mode, err := readDockerConfig(i.configFile, true)
	if err != nil {
		return Errorf("%v", err)
	}
	out, replaced, err := addRuntime(data, i.runtime, self, f.Args())
	if err != nil {
		return Errorf("editing %s: %v", i.configFile, err)
	}
	if err := writeDockerConfig(i.configFile, out, mode); err != nil {
		return Errorf("%v", err)
	}
	verb := "added"
	if replaced {
		verb = "updated"
	}
	fmt.Fprintf(os.Stdout, "runtime %q %s in %s (path %s)\n%s", i.runtime, verb, i.configFile, self, reloadHint)
	return subcommands.ExitSuccess
}

// Uninstall removes a runtime from Docker's daemon.json.
type Uninstall struct {
	// configFile is the daemon.json to edit.
	configFile string
	// runtime is the name of the runtime to remove.
	runtime string
}

// Name implements subcommands.Command.
func (*Uninstall) Name() string { return "uninstall" }

// Synopsis implements subcommands.Command.
func (*Uninstall) Synopsis() string { return "remove a runtime from Docker's daemon.json" }

// Usage implements subcommands.Command.
func (*Uninstall) Usage() string {
	return `uninstall [--runtime NAME] [--config-file FILE] - remove Docker runtime NAME
from FILE, keeping every other key.
`
}

// SetFlags implements subcommands.Command.
func (u *Uninstall) SetFlags(f *flag.FlagSet) {
	f.StringVar(&u.configFile, "config-file", defaultDockerConfig, "path to Docker's daemon.json.")
	f.StringVar(&u.runtime, "runtime", "runsc", "name of the runtime to remove.")
}

// Execute implements subcommands.Command.
func (u *Uninstall) Execute(_ context.Context, f *flag.FlagSet, _ ...any) subcommands.ExitStatus {
	if f.NArg() != 0 {
		return usageError(u, "uninstall takes no arguments, got %q", f.Args())
	}
	data, mode, err := readDockerConfig(u.configFile, false)
	if err != nil {
		return Errorf("%v", err)
	}
	out, err := removeRuntime(data, u.runtime)
	if err != nil {
		return Errorf("editing %s: %v", u.configFile, err)
	}
	if err := writeDockerConfig(u.configFile, out, mode); err != nil {
		return Errorf("%v", err)
	}
	fmt.Fprintf(os.Stdout, "runtime %q removed from %s\n%s", u.runtime, u.configFile, reloadHint)
	return subcommands.ExitSuccess
}

// readDockerConfig reads path and its permissions. A missing file reads as
// empty (mode 0644) when missingOK, and is an error otherwise.
func readDockerConfig(path string, missingOK bool) ([]byte, fs.FileMode, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && missingOK {
		return nil, 0o644, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading docker config: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("reading docker config: %w", err)
	}
	return data, st.Mode().Perm(), nil
}

// writeDockerConfig replaces path atomically (temp file, fsync, rename), so
// a dockerd reading it concurrently sees the old or the new file, creating
// the parent directory if needed. A symlink at path is followed: its
// target is replaced.
func writeDockerConfig(path string, data []byte, mode fs.FileMode) error {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing docker config: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing docker config: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing docker config: %w", err)
	}
	return nil
}

// member is one key of a JSON object, its value kept verbatim.
type member struct {
	key   string
	value json.RawMessage
}

// object is a JSON object that keeps its keys in file order.
type object []member

// parseObject decodes data as one JSON object, keeping key order and raw
// values. Empty (or all-whitespace) data is an empty object.
func parseObject(data []byte) (object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("malformed JSON: want an object, got %v", tok)
	}
	var obj object
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("malformed JSON: %w", err)
		}
		key := tok.(string) // Object keys are always strings.
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("malformed JSON at key %q: %w", key, err)
		}
		if seen[key] {
			return nil, fmt.Errorf("malformed JSON: duplicate key %q", key)
		}
		seen[key] = true
		obj = append(obj, member{key, value})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed JSON: trailing data after the object")
	}
	return obj, nil
}

// find returns the index of key, or -1.
func (o object) find(key string) int {
	for i, m := range o {
		if m.key == key {
			return i
		}
	}
	return -1
}

// set replaces key's value in place, or appends key.
func (o object) set(key string, value json.RawMessage) object {
	if i := o.find(key); i >= 0 {
		o[i].value = value
		return o
	}
	return append(o, member{key, value})
}

// del removes key if present.
func (o object) del(key string) object {
	if i := o.find(key); i >= 0 {
		return append(o[:i:i], o[i+1:]...)
	}
	return o
}

// marshal encodes o compactly, in order.
func (o object) marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// indent marshals o as daemon.json is usually written: tab-free, two-space
// indentation, a trailing newline.
func (o object) indent() ([]byte, error) {
	compact, err := o.marshal()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// dockerRuntime is one entry of daemon.json's "runtimes".
type dockerRuntime struct {
	Path        string   `json:"path"`
	RuntimeArgs []string `json:"runtimeArgs,omitempty"`
}

// runtimes returns the "runtimes" object of top, which must be an object if
// present.
func runtimes(top object) (object, error) {
	i := top.find("runtimes")
	if i < 0 || bytes.Equal(bytes.TrimSpace(top[i].value), []byte("null")) {
		return nil, nil
	}
	rts, err := parseObject(top[i].value)
	if err != nil {
		return nil, fmt.Errorf(`"runtimes": %w`, err)
	}
	return rts, nil
}

// addRuntime sets runtimes[name] = {path, runtimeArgs} in the daemon.json
// data, keeping every other key and its position. replaced says whether
// name was already there.
func addRuntime(data []byte, name, path string, args []string) (out []byte, replaced bool, err error) {
	top, err := parseObject(data)
	if err != nil {
		return nil, false, err
	}
	rts, err := runtimes(top)
	if err != nil {
		return nil, false, err
	}
	entry, err := json.Marshal(dockerRuntime{Path: path, RuntimeArgs: args})
	if err != nil {
		return nil, false, err
	}
	replaced = rts.find(name) >= 0
	rtsData, err := rts.set(name, entry).marshal()
	if err != nil {
		return nil, false, err
	}
	out, err = top.set("runtimes", rtsData).indent()
	return out, replaced, err
}

// removeRuntime deletes runtimes[name] from the daemon.json data, and the
// "runtimes" key itself once it is empty. A missing name is an error.
func removeRuntime(data []byte, name string) ([]byte, error) {
	top, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	rts, err := runtimes(top)
	if err != nil {
		return nil, err
	}
	if rts.find(name) < 0 {
		return nil, fmt.Errorf("runtime %q is not installed", name)
	}
	rts = rts.del(name)
	if len(rts) == 0 {
		return top.del("runtimes").indent()
	}
	rtsData, err := rts.marshal()
	if err != nil {
		return nil, err
	}
	return top.set("runtimes", rtsData).indent()
}
