package log

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DebugLogPath expands a --debug-log pattern for one invocation of command.
// %COMMAND% and %TIMESTAMP% are replaced; a pattern ending in "/" names a
// directory, in which each invocation gets its own file, as in gVisor.
func DebugLogPath(pattern, command string, now time.Time) string {
	if strings.HasSuffix(pattern, "/") {
		pattern += "runsc.log.%TIMESTAMP%.%COMMAND%"
	}
	ts := now.Format("20060102-150405.000000")
	p := strings.ReplaceAll(pattern, "%COMMAND%", command)
	return strings.ReplaceAll(p, "%TIMESTAMP%", ts)
}

// OpenLogFile opens path for appending (close-on-exec, as os.OpenFile always is) (Docker reuses a container's log
// file across invocations), creating it and its directory as needed.
func OpenLogFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening log file: %w", err)
	}
	return f, nil
}
