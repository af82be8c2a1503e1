package gofer

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"runsc.dev/runsc/pkg/mountinfo"
	"runsc.dev/runsc/pkg/sysfile"
)

// mountInfo is one line of /proc/<pid>/mountinfo.
type mountInfo struct {
	id, parent  int
	major       uint32
	minor       uint32
	root        string
	mountpoint  string
	options     string
	optional    []string
	fstype      string
	source      string
	superOption string
}

// readMountInfo parses /proc/self/mountinfo.
func readMountInfo() ([]mountInfo, error) {
	f, err := sysfile.Open("/proc/self/mountinfo", os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("reading mount table: %w", err)
	}
	defer f.Close()
	return parseMountInfo(f)
}

// parseMountInfo parses the mountinfo format (proc(5)).
func parseMountInfo(r io.Reader) ([]mountInfo, error) {
	var out []mountInfo
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		fields := strings.Split(line, " ")
		sep := -1
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 7 || sep < 0 || sep+3 > len(fields) {
			return nil, fmt.Errorf("parsing mount table: malformed line %q", line)
		}
		var m mountInfo
		var err error
		if m.id, err = strconv.Atoi(fields[0]); err != nil {
			return nil, fmt.Errorf("parsing mount table: line %q: %w", line, err)
		}
		if m.parent, err = strconv.Atoi(fields[1]); err != nil {
			return nil, fmt.Errorf("parsing mount table: line %q: %w", line, err)
		}
		maj, min, ok := strings.Cut(fields[2], ":")
		if !ok {
			return nil, fmt.Errorf("parsing mount table: line %q: bad device %q", line, fields[2])
		}
		ma, err1 := strconv.ParseUint(maj, 10, 32)
		mi, err2 := strconv.ParseUint(min, 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("parsing mount table: line %q: bad device %q", line, fields[2])
		}
		m.major, m.minor = uint32(ma), uint32(mi)
		m.root = mountinfo.Unescape(fields[3])
		m.mountpoint = mountinfo.Unescape(fields[4])
		m.options = fields[5]
		m.optional = fields[6:sep]
		m.fstype = fields[sep+1]
		m.source = mountinfo.Unescape(fields[sep+2])
		if sep+3 < len(fields) {
			m.superOption = fields[sep+3]
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parsing mount table: %w", err)
	}
	return out, nil
}

// isShared reports whether the mount is in a shared peer group.
func (m *mountInfo) isShared() bool {
	for _, o := range m.optional {
		if strings.HasPrefix(o, "shared:") {
			return true
		}
	}
	return false
}

// parentMount returns the mount path is on: the entry with the longest
// mount point that is path or one of its ancestors (the last one mounted
// when several are stacked there).
func parentMount(mounts []mountInfo, path string) (mountInfo, bool) {
	path = filepath.Clean(path)
	best, found := mountInfo{}, false
	for _, m := range mounts {
		mp := m.mountpoint
		if mp != "/" && mp != path && !strings.HasPrefix(path, mp+"/") {
			continue
		}
		if !found || len(mp) >= len(best.mountpoint) {
			best, found = m, true
		}
	}
	return best, found
}
