// Package root holds runsc's tests that need root and a real kernel. They
// are built only with the `root` build tag (go test -tags root
// ./runsc/test/root/) and carry the Bazel tags requires-root and local.
package root
