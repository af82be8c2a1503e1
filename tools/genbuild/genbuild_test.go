package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRepoName(t *testing.T) {
	for in, want := range map[string]string{
		"golang.org/x/sys":                       "org_golang_x_sys",
		"github.com/google/subcommands":          "com_github_google_subcommands",
		"github.com/opencontainers/runtime-spec": "com_github_opencontainers_runtime_spec",
		"github.com/bazelbuild/rules_go":         "com_github_bazelbuild_rules_go",
		"example.com/Foo/v2":                     "com_example_foo_v2",
	} {
		if got := repoName(in); got != want {
			t.Errorf("repoName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLibName(t *testing.T) {
	for in, want := range map[string]string{
		"golang.org/x/sys/unix":     "unix",
		"example.com/foo/v2":        "foo",
		"runsc.dev/runsc":           "runsc",
		"runsc.dev/runsc/runsc/cmd": "cmd",
	} {
		if got := libName(in); got != want {
			t.Errorf("libName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolverLabel(t *testing.T) {
	r := newResolver("runsc.dev/runsc", []string{
		"golang.org/x/sys", "github.com/google/subcommands", "example.com/a", "example.com/a/b",
	})
	for in, want := range map[string]string{
		"os":                            "",
		"C":                             "",
		"runsc.dev/runsc/pkg/log":       "//pkg/log",
		"runsc.dev/runsc":               "//:runsc",
		"golang.org/x/sys/unix":         "@org_golang_x_sys//unix",
		"github.com/google/subcommands": "@com_github_google_subcommands//:subcommands",
		"example.com/a/b/c":             "@com_example_a_b//c",
		"example.com/a/bc":              "@com_example_a//bc",
		"example.com/a/x/v3":            "@com_example_a//x/v3:x",
	} {
		got, err := r.label(in)
		if err != nil || got != want {
			t.Errorf("label(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := r.label("example.org/unknown"); err == nil {
		t.Errorf("label of a package of no module: no error")
	}
}

func TestRenderBuild(t *testing.T) {
	got := renderBuild("header", []rule{
		{kind: "go_library", name: "lib", attrs: map[string]any{
			"srcs":       []string{"a.go", "b.go"},
			"importpath": "x/lib",
			"deps":       []string{"//y"},
		}},
		{kind: "go_test", name: "lib_test", attrs: map[string]any{
			"srcs": []string{"a_test.go"},
			"data": glob{"testdata/**"},
		}},
	})
	want := `# header
load("@io_bazel_rules_go//go:def.bzl", "go_library", "go_test")

go_library(
    name = "lib",
    srcs = [
        "a.go",
        "b.go",
    ],
    importpath = "x/lib",
    deps = ["//y"],
)

go_test(
    name = "lib_test",
    srcs = ["a_test.go"],
    data = glob(["testdata/**"]),
)
`
	if got != want {
		t.Errorf("renderBuild:\n%s\nwant:\n%s", got, want)
	}
}

func TestRootTests(t *testing.T) {
	r := newResolver("m.dev/m", nil)
	def := &listPkg{
		ImportPath: "m.dev/m/p", Name: "p",
		GoFiles:     []string{"p.go"},
		TestGoFiles: []string{"p_test.go", "x_root_test.go"},
	}
	root := &listPkg{
		ImportPath: "m.dev/m/p", Name: "p",
		GoFiles:     []string{"p.go"},
		TestGoFiles: []string{"p_test.go", "tagged_test.go", "x_root_test.go"},
		TestImports: []string{"m.dev/m/q"},
	}
	rules, errs := (&wsPackage{rel: "p", def: def, root: root}).rules("m.dev/m", r)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var names []string
	for _, r := range rules {
		names = append(names, r.kind+":"+r.name)
	}
	if want := []string{"go_library:p", "go_test:p_test", "go_test:p_root_test"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("rules %v, want %v", names, want)
	}
	if got := rules[1].attrs["srcs"]; !reflect.DeepEqual(got, []string{"p_test.go"}) {
		t.Errorf("default test srcs %v", got)
	}
	if _, ok := rules[1].attrs["tags"]; ok {
		t.Errorf("default test has tags")
	}
	rt := rules[2].attrs
	if !reflect.DeepEqual(rt["srcs"], []string{"p_test.go", "tagged_test.go", "x_root_test.go"}) ||
		!reflect.DeepEqual(rt["tags"], []string{"local", "requires-root"}) ||
		!reflect.DeepEqual(rt["gotags"], []string{"root"}) ||
		!reflect.DeepEqual(rt["deps"], []string{"//q"}) ||
		!reflect.DeepEqual(rt["embed"], []string{":p"}) {
		t.Errorf("root test attrs %v", rt)
	}

	// Everything in a root test directory is a root test, named as usual.
	dir := &listPkg{ImportPath: "m.dev/m/runsc/test/root", Name: "root", TestGoFiles: []string{"a_test.go"}}
	rules, _ = (&wsPackage{rel: "runsc/test/root", def: dir, root: dir}).rules("m.dev/m", r)
	if len(rules) != 1 || rules[0].name != "root_test" || rules[0].attrs["tags"] == nil || rules[0].attrs["gotags"] != nil {
		t.Errorf("root dir rules %+v", rules)
	}
}

func TestBinaryStamp(t *testing.T) {
	p := &listPkg{ImportPath: "m.dev/m/cmd/x", Name: "main", GoFiles: []string{"main.go"}, Deps: []string{"m.dev/m/runsc/version"}}
	rules, _ := (&wsPackage{rel: "cmd/x", def: p}).rules("m.dev/m", newResolver("m.dev/m", nil))
	if len(rules) != 2 || rules[0].name != "x_lib" || rules[1].kind != "go_binary" || rules[1].name != "x" {
		t.Fatalf("rules %+v", rules)
	}
	want := map[string]string{"m.dev/m/runsc/version.Commit": "{STABLE_GIT_REVISION}"}
	if got := rules[1].attrs["x_defs"]; !reflect.DeepEqual(got, want) {
		t.Errorf("x_defs %v, want %v", got, want)
	}
}

func write(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateModule(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.go"), "package a\nimport (\n_ \"os\"\n_ \"example.com/a/sub\"\n_ \"golang.org/x/sys/unix\"\n)\n")
	write(t, filepath.Join(dir, "a_linux_arm64.s"), "")
	write(t, filepath.Join(dir, "a_windows.go"), "package a\nimport _ \"golang.org/x/sys/windows\"\n")
	write(t, filepath.Join(dir, "a_test.go"), "package a\n")
	write(t, filepath.Join(dir, "BUILD.bazel"), "shipped\n")
	write(t, filepath.Join(dir, "sub", "b.go"), "package sub\n")
	write(t, filepath.Join(dir, "win", "w_windows.go"), "package win\n")
	write(t, filepath.Join(dir, "gen", "gen.go"), "//go:build ignore\n\npackage main\n")
	write(t, filepath.Join(dir, "nested", "go.mod"), "module example.com/a/nested\n")
	write(t, filepath.Join(dir, "nested", "n.go"), "package n\n")
	if err := generateModule(dir, "example.com/a", []string{"golang.org/x/sys"}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "BUILD.bazel"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`name = "a",`, `"a.go",`, `"a_linux_arm64.s",`, `importpath = "example.com/a",`,
		`"//sub",`, `"@org_golang_x_sys//unix",`,
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("BUILD.bazel lacks %s:\n%s", want, got)
		}
	}
	for _, bad := range []string{"shipped", "a_windows.go", "a_test.go", "windows"} {
		if strings.Contains(string(got), bad) {
			t.Errorf("BUILD.bazel has %s:\n%s", bad, got)
		}
	}
	for _, d := range []string{"win", "gen", "nested"} {
		if _, err := os.Stat(filepath.Join(dir, d, "BUILD.bazel")); err == nil {
			t.Errorf("%s has a BUILD.bazel", d)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sub", "BUILD.bazel")); err != nil {
		t.Errorf("sub: %v", err)
	}
}

// TestEveryPackageHasBuildFile checks the source tree (under `go test`
// only: Bazel runs tests without it).
func TestEveryPackageHasBuildFile(t *testing.T) {
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("under Bazel: no source tree")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Skip("not in the runsc source tree")
	}
	_, pkgs, err := loadWorkspace("go", root)
	if err != nil {
		t.Fatal(err)
	}
	for rel := range pkgs {
		if _, err := os.Stat(filepath.Join(root, rel, "BUILD")); err != nil {
			t.Errorf("Go package directory %q has no BUILD file: run tools/gen_build.sh", rel)
		}
	}
}

func TestBinaryAsTestData(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &listPkg{
		Dir: dir, ImportPath: "m.dev/m/e2e", Name: "e2e",
		TestGoFiles: []string{"e2e_test.go"},
		TestImports: []string{"m.dev/m/runsc/test/testutil"},
	}
	rules, _ := (&wsPackage{rel: "e2e", def: p}).rules("m.dev/m", newResolver("m.dev/m", nil))
	got := renderBuild("h", rules)
	for _, want := range []string{
		`data = glob(["testdata/**"]) + ["//runsc"],`,
		`"RUNSC_BINARY": "../$(rootpath //runsc)",`,
		`deps = ["//runsc/test/testutil"],`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("BUILD lacks %s:\n%s", want, got)
		}
	}
}
