package main

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// rule is one Bazel rule call in a BUILD file.
type rule struct {
	kind  string // go_library, go_test or go_binary
	name  string
	attrs map[string]any // string, []string, map[string]string or glob
}

// glob is rendered as glob([patterns]).
type glob []string

// globPlus is rendered as glob([patterns]) + [labels].
type globPlus struct {
	glob   glob
	labels []string
}

// attrOrder is the order in which attributes are written.
var attrOrder = []string{
	"srcs", "embedsrcs", "embed", "data", "env", "importpath", "gotags", "pure", "static",
	"x_defs", "timeout", "tags", "visibility", "deps",
}

// renderBuild renders a BUILD file made of rules, with header as its first comment.
func renderBuild(header string, rules []rule) string {
	var b strings.Builder
	for _, line := range strings.Split(header, "\n") {
		b.WriteString("# " + line + "\n")
	}
	kinds := map[string]bool{}
	for _, r := range rules {
		kinds[r.kind] = true
	}
	b.WriteString(`load("@io_bazel_rules_go//go:def.bzl"`)
	for _, k := range sortedKeys(kinds) {
		fmt.Fprintf(&b, ", %q", k)
	}
	b.WriteString(")\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "\n%s(\n    name = %q,\n", r.kind, r.name)
		for _, k := range attrOrder {
			v, ok := r.attrs[k]
			if !ok {
				continue
			}
			b.WriteString("    " + k + " = " + renderValue(v) + ",\n")
		}
		b.WriteString(")\n")
	}
	return b.String()
}

func renderValue(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []string:
		return renderList(v)
	case glob:
		return "glob(" + renderList(v) + ")"
	case globPlus:
		return renderValue(v.glob) + " + " + renderList(v.labels)
	case map[string]string:
		var b strings.Builder
		b.WriteString("{\n")
		for _, k := range sortedKeys(v) {
			fmt.Fprintf(&b, "        %q: %q,\n", k, v[k])
		}
		b.WriteString("    }")
		return b.String()
	}
	panic(fmt.Sprintf("genbuild: cannot render %T", v))
}

func renderList(l []string) string {
	if len(l) == 1 {
		return fmt.Sprintf("[%q]", l[0])
	}
	var b strings.Builder
	b.WriteString("[\n")
	for _, s := range l {
		fmt.Fprintf(&b, "        %q,\n", s)
	}
	b.WriteString("    ]")
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// set is a set of strings.
type set map[string]bool

func (s set) add(items ...string) {
	for _, i := range items {
		s[i] = true
	}
}

func (s set) sorted() []string { return sortedKeys(s) }

// repoName turns a module path into a Bazel repository name in gazelle's
// style: golang.org/x/sys -> org_golang_x_sys.
func repoName(modPath string) string {
	host, rest, _ := strings.Cut(modPath, "/")
	parts := strings.Split(host, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	name := strings.Join(parts, "_")
	if rest != "" {
		name += "_" + rest
	}
	return nonIdent.ReplaceAllString(strings.ToLower(name), "_")
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]`)

var majorVersion = regexp.MustCompile(`^v[0-9]+$`)

// libName is the go_library name for an import path: its last element,
// skipping a major-version suffix (example.com/foo/v2 -> foo).
func libName(importPath string) string {
	elems := strings.Split(importPath, "/")
	name := elems[len(elems)-1]
	if len(elems) > 1 && majorVersion.MatchString(name) {
		name = elems[len(elems)-2]
	}
	return name
}

// isStd reports whether an import path belongs to the standard library
// (no dot in its first element), or is the cgo pseudo-package.
func isStd(importPath string) bool {
	first, _, _ := strings.Cut(importPath, "/")
	return !strings.Contains(first, ".")
}

// resolver maps import paths to Bazel labels.
type resolver struct {
	self    string   // path of the module whose BUILD files are written
	modules []string // the other modules, longest path first
}

func newResolver(self string, modules []string) *resolver {
	r := &resolver{self: self}
	for _, m := range modules {
		if m != "" && m != self {
			r.modules = append(r.modules, m)
		}
	}
	sort.Slice(r.modules, func(i, j int) bool { return len(r.modules[i]) > len(r.modules[j]) })
	return r
}

// within returns the directory of importPath relative to module mod.
func within(importPath, mod string) (string, bool) {
	if importPath == mod {
		return "", true
	}
	if rel, ok := strings.CutPrefix(importPath, mod+"/"); ok {
		return rel, true
	}
	return "", false
}

// label returns the label of the go_library for importPath, "" for the
// standard library, or an error for a package of no known module.
func (r *resolver) label(importPath string) (string, error) {
	if isStd(importPath) {
		return "", nil
	}
	if rel, ok := within(importPath, r.self); ok {
		return pkgLabel("", rel, libName(importPath)), nil
	}
	for _, m := range r.modules {
		if rel, ok := within(importPath, m); ok {
			return pkgLabel("@"+repoName(m), rel, libName(importPath)), nil
		}
	}
	return "", fmt.Errorf("import %q: no module in go.mod provides it", importPath)
}

// pkgLabel builds "@repo//dir:name", shortened to "@repo//dir" when name is
// the last element of dir.
func pkgLabel(repo, dir, name string) string {
	if dir != "" && path.Base(dir) == name {
		return repo + "//" + dir
	}
	return repo + "//" + dir + ":" + name
}

// resolveAll resolves imports to a sorted list of labels, leaving out self
// (a test's own library, which it embeds).
func (r *resolver) resolveAll(imports []string, skip string) ([]string, []error) {
	labels := set{}
	var errs []error
	for _, imp := range imports {
		if imp == skip {
			continue
		}
		l, err := r.label(imp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if l != "" {
			labels.add(l)
		}
	}
	return labels.sorted(), errs
}
