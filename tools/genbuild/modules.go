package main

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// readGoSum returns the h1: hash of each module zip ("path version" key).
func readGoSum(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && !strings.HasSuffix(fields[1], "/go.mod") {
			sums[fields[0]+" "+fields[1]] = fields[2]
		}
	}
	return sums, sc.Err()
}

// runModules writes out, a .bzl file whose go_module_repositories() declares
// one go_module repository per module that go.mod requires.
func runModules(goTool, gomod, gosum, out string) error {
	mod, err := readGoMod(goTool, gomod)
	if err != nil {
		return err
	}
	sums, err := readGoSum(gosum)
	if err != nil {
		return err
	}
	type dep struct{ name, path, version, sum string }
	var deps []dep
	var paths []string
	for _, req := range mod.Require {
		p, v := req.Path, req.Version
		for _, rep := range mod.Replace {
			if rep.Old.Path == p && (rep.Old.Version == "" || rep.Old.Version == v) {
				if rep.New.Version == "" {
					return fmt.Errorf("%s: replacement of %s by directory %s is not supported", gomod, p, rep.New.Path)
				}
				p, v = rep.New.Path, rep.New.Version
			}
		}
		sum, ok := sums[p+" "+v]
		if !ok {
			return fmt.Errorf("%s: no hash for %s %s: run `go mod download %s`", gosum, p, v, p)
		}
		// Imports name the required path, even when it is replaced.
		deps = append(deps, dep{repoName(req.Path), p, v, sum})
		paths = append(paths, req.Path)
	}
	var b strings.Builder
	b.WriteString("# Generated from go.mod and go.sum by tools/genbuild (-mode=modules); DO NOT EDIT.\n")
	b.WriteString("load(\"@//tools/bazel_defs:repositories.bzl\", \"go_module\")\n\n")
	b.WriteString("MODULES = [\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "    %q,\n", p)
	}
	b.WriteString("]\n\n")
	b.WriteString("def go_module_repositories():\n")
	b.WriteString("    \"\"\"Declares one repository per module required by go.mod.\"\"\"\n")
	if len(deps) == 0 {
		b.WriteString("    pass\n")
	}
	for _, d := range deps {
		fmt.Fprintf(&b, "    go_module(\n        name = %q,\n        path = %q,\n        version = %q,\n        sum = %q,\n        modules = MODULES,\n    )\n",
			d.name, d.path, d.version, d.sum)
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// runFetch downloads module@version through the Go module proxy (and the
// shared module cache), checks its hash against sum, extracts it into out
// and, with generate, writes its BUILD files.
func runFetch(goTool, module, version, sum, out string, generate bool, modules []string) error {
	if module == "" || version == "" || sum == "" || out == "" {
		return errors.New("-module, -version, -sum and -out are required")
	}
	// Run outside any module, so that no go.mod is read or changed.
	tmp, err := os.MkdirTemp("", "genbuild")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(goTool, "mod", "download", "-json", module+"@"+version)
	cmd.Dir = tmp
	cmd.Stderr = os.Stderr
	output, runErr := cmd.Output()
	var info struct{ Zip, Sum, Error string }
	if err := json.Unmarshal(output, &info); err != nil {
		return fmt.Errorf("go mod download %s@%s: %v (%v)", module, version, runErr, err)
	}
	if info.Error != "" || runErr != nil {
		return fmt.Errorf("go mod download %s@%s: %v %s", module, version, runErr, info.Error)
	}
	if info.Sum != sum {
		return fmt.Errorf("%s@%s: hash %s, want %s (from go.sum)", module, version, info.Sum, sum)
	}
	if err := unzipModule(info.Zip, module+"@"+version+"/", out); err != nil {
		return err
	}
	if !generate {
		return nil
	}
	return generateModule(out, module, modules)
}

func unzipModule(zipFile, prefix, out string) error {
	zr, err := zip.OpenReader(zipFile)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, f := range zr.File {
		name, ok := strings.CutPrefix(f.Name, prefix)
		if !ok || name == "" || strings.HasSuffix(name, "/") {
			continue
		}
		if !fs.ValidPath(name) {
			return fmt.Errorf("%s: bad file name %q", zipFile, f.Name)
		}
		dst := filepath.Join(out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := extract(f, dst); err != nil {
			return err
		}
	}
	return nil
}

func extract(f *zip.File, dst string) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// linuxArches are the architectures whose files the generated go_library
// targets of an external module list (the project builds for Linux only).
var linuxArches = []string{"amd64", "arm64", "386", "arm", "ppc64le", "s390x", "riscv64", "loong64", "mips64le"}

// extPackage reads a directory of an external module: its name, sources
// and imports over all Linux architectures, without cgo (builds are pure).
func extPackage(dir string) (name string, srcs, imports, embeds set, err error) {
	srcs, imports, embeds = set{}, set{}, set{}
	for _, arch := range linuxArches {
		ctx := build.Default
		ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = "linux", arch, false
		ctx.BuildTags = nil
		p, err := ctx.ImportDir(dir, 0)
		if err != nil {
			continue
		}
		if name != "" && name != p.Name {
			return "", nil, nil, nil, fmt.Errorf("%s: packages %s and %s", dir, name, p.Name)
		}
		name = p.Name
		srcs.add(p.GoFiles...)
		srcs.add(p.SFiles...)
		srcs.add(p.HFiles...)
		imports.add(p.Imports...)
		embeds.add(p.EmbedPatterns...)
	}
	return name, srcs, imports, embeds, nil
}

// generateModule writes a BUILD.bazel with a go_library per package of the
// module extracted in dir (replacing any BUILD files it shipped).
func generateModule(dir, module string, modules []string) error {
	// Bazel files the module ships name their own dependency repositories:
	// drop them.
	err := filepath.WalkDir(dir, func(file string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch d.Name() {
		case "BUILD", "BUILD.bazel", "WORKSPACE", "WORKSPACE.bazel", "MODULE.bazel":
			return os.Remove(file)
		}
		return nil
	})
	if err != nil {
		return err
	}
	res := newResolver(module, modules)
	header := fmt.Sprintf("Generated by tools/genbuild (-mode=fetch) for %s.", module)
	return filepath.WalkDir(dir, func(file string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel := filepath.ToSlash(must(filepath.Rel(dir, file)))
		if rel == "." {
			rel = ""
		} else {
			n := d.Name()
			if strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "testdata" || n == "vendor" || strings.ContainsAny(rel, "@: ") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(file, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module
			}
		}
		name, srcs, imports, embeds, err := extPackage(file)
		if err != nil {
			return err
		}
		if name == "" || name == "main" {
			return nil
		}
		importPath := path.Join(module, rel)
		deps := set{}
		for _, imp := range imports.sorted() {
			if l, err := res.label(imp); err == nil && l != "" {
				deps.add(l)
			}
		}
		attrs := map[string]any{
			"srcs":       srcs.sorted(),
			"importpath": importPath,
			"visibility": []string{"//visibility:public"},
		}
		if len(embeds) > 0 {
			attrs["embedsrcs"] = glob(embeds.sorted())
		}
		if len(deps) > 0 {
			attrs["deps"] = deps.sorted()
		}
		content := renderBuild(header, []rule{{kind: "go_library", name: libName(importPath), attrs: attrs}})
		return os.WriteFile(filepath.Join(file, "BUILD.bazel"), []byte(content), 0o644)
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
