// Package version holds the build's version strings. Commit is stamped at
// link time (Bazel's workspace status, or -ldflags -X for plain Go builds).
package version

// Version is the runsc release version.
var Version = "0.1.0"

// Commit is the git revision the binary was built from.
var Commit = "unknown"
