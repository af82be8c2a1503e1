package specutils

// RootfsOverlayAnnotation asks the gofer to prepare root.path before init
// builds the rootfs from it; `runsc do` sets it. Value "tmpfs": a writable
// overlay whose upper layers live in a tmpfs; "none": a recursive,
// recursively read-only bind (root.path may then be "/", which pivot_root
// cannot take as it is). Either is made in the gofer's own mount
// namespace, so the host never sees it and a killed gofer leaves no mount
// behind (see runsc/gofer/overlay.go).
const RootfsOverlayAnnotation = "dev.runsc.rootfs-overlay"
