// Command genbuild writes the Bazel BUILD files of this repository and of the
// Go modules it depends on, so that the Bazel build needs neither gazelle nor
// anything beyond the host Go toolchain and the Go module proxy.
//
// Modes:
//
//	genbuild [-root DIR] [-check]
//	    (Re)writes one BUILD file per Go package directory of the main module
//	    from `go list -json ./...` output. Idempotent. With -check it writes
//	    nothing and exits 1 when a BUILD file is missing or out of date.
//	    Normally run through tools/gen_build.sh.
//	genbuild -mode=modules -gomod go.mod -gosum go.sum -out modules.bzl
//	    Writes the Starlark macro that declares one repository per module
//	    required by go.mod (used by the go_modules repository rule).
//	genbuild -mode=fetch -module PATH -version V -sum H1 -out DIR [-generate -modules M1,M2]
//	    Downloads a module with `go mod download -json`, checks its hash,
//	    extracts it into DIR and, with -generate, writes its BUILD files
//	    (used by the go_module repository rule).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	var (
		mode     = flag.String("mode", "workspace", "workspace, modules or fetch")
		goTool   = flag.String("go", "go", "the go command to run")
		root     = flag.String("root", ".", "workspace mode: root of the main module")
		check    = flag.Bool("check", false, "workspace mode: report out-of-date BUILD files instead of writing them")
		gomod    = flag.String("gomod", "go.mod", "modules mode: the go.mod file")
		gosum    = flag.String("gosum", "go.sum", "modules mode: the go.sum file")
		out      = flag.String("out", "", "modules mode: output .bzl file; fetch mode: output directory")
		module   = flag.String("module", "", "fetch mode: module path")
		version  = flag.String("version", "", "fetch mode: module version")
		sum      = flag.String("sum", "", "fetch mode: expected h1: hash of the module zip")
		generate = flag.Bool("generate", false, "fetch mode: write BUILD.bazel files for the module's packages")
		modules  = flag.String("modules", "", "fetch mode: comma-separated paths of the other modules (for deps)")
	)
	flag.Parse()
	var err error
	switch *mode {
	case "workspace":
		err = runWorkspace(*goTool, *root, *check)
	case "modules":
		err = runModules(*goTool, *gomod, *gosum, *out)
	case "fetch":
		var others []string
		if *modules != "" {
			others = strings.Split(*modules, ",")
		}
		err = runFetch(*goTool, *module, *version, *sum, *out, *generate, others)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "genbuild: %v\n", err)
		os.Exit(1)
	}
}
