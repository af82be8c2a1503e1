// Package mountinfo holds helpers for /proc/<pid>/mountinfo text, shared
// by the cgroup driver and the rootfs builder.
package mountinfo

import (
	"strconv"
	"strings"
)

// Unescape undoes the kernel's octal escaping of space, tab, newline and
// backslash (\040 ...) in mountinfo paths.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
