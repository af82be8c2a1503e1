// Empty: lets fork.go declare the runtime fork hooks it links to without
// bodies (go:linkname).
