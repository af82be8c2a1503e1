// Package e2e holds runsc's end-to-end tests: they start their own dockerd
// (Debian's docker.io) and containerd (Debian's containerd, with its CRI
// plugin driven by crictl), import a busybox-static image they build, and
// check every client flow against runsc with Debian's runc as the
// reference. They need root and are built only with the `root` build tag:
//
//	go test -count=1 -tags root ./runsc/test/e2e/
//
// Tests skip when docker.io, containerd or busybox-static are missing
// (tools/setup.sh installs them). crictl is taken from $PATH, else built
// with `go install sigs.k8s.io/cri-tools/cmd/crictl@v1.34.0`.
package e2e
