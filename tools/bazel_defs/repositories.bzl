"""Repository rules for the offline Bazel build of runsc (see README.md here).

Everything comes from the host Go toolchain, the Go module proxy (through
`go mod download`, sharing the module cache with plain `go`) and Debian's
bazel-* packages: nothing is downloaded by Bazel itself.
"""

# Debian's bazel-skylib, bazel-bootstrap and bazel-rules-java packages.
_DEBIAN_REPOSITORIES = {
    "bazel_skylib": "/usr/share/bazel/tools/skylib",
    "platforms": "/usr/share/bazel/platforms",
    "rules_java": "/usr/share/bazel/rules/java",
}

# Debian's rules_cc needs Bazel 5: forward its macros to the native rules.
_RULES_CC_DEFS = """\"\"\"Forwards to Bazel's native cc rules (stub of rules_cc for Bazel 4).\"\"\"

def cc_binary(**attrs):
    native.cc_binary(**attrs)

def cc_import(**attrs):
    native.cc_import(**attrs)

def cc_library(**attrs):
    native.cc_library(**attrs)

def cc_proto_library(**attrs):
    native.cc_proto_library(**attrs)

def cc_shared_library(**attrs):
    native.cc_shared_library(**attrs)

def cc_test(**attrs):
    native.cc_test(**attrs)

def cc_toolchain(**attrs):
    native.cc_toolchain(**attrs)

def cc_toolchain_suite(**attrs):
    native.cc_toolchain_suite(**attrs)

def fdo_prefetch_hints(**attrs):
    native.fdo_prefetch_hints(**attrs)

def fdo_profile(**attrs):
    native.fdo_profile(**attrs)

def objc_import(**attrs):
    native.objc_import(**attrs)

def objc_library(**attrs):
    native.objc_library(**attrs)
"""

def _files_repository_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    for path, content in ctx.attr.files.items():
        ctx.file(path, content, executable = False)

_files_repository = repository_rule(
    implementation = _files_repository_impl,
    attrs = {"files": attr.string_dict()},
    doc = "A repository made of the given files (path -> content).",
)

def runsc_base_repositories():
    """Declares the repositories Bazel 4 would otherwise download by itself.

    Must come before go_rules_dependencies() (which only declares what is
    not declared yet).
    """
    for name, path in _DEBIAN_REPOSITORIES.items():
        native.local_repository(name = name, path = path)
    _files_repository(
        name = "rules_cc",
        files = {
            "BUILD": "",
            "cc/BUILD": 'alias(name = "toolchain_type", actual = "@bazel_tools//tools/cpp:toolchain_type", visibility = ["//visibility:public"])\n',
            "cc/defs.bzl": _RULES_CC_DEFS,
        },
    )

    # `bazel coverage` is not available: its tools are not packaged.
    _files_repository(
        name = "remote_coverage_tools",
        files = {
            "BUILD": "\n".join([
                'filegroup(name = "%s", visibility = ["//visibility:public"])' % n
                for n in ["coverage_report_generator", "lcov_merger", "Main"]
            ]) + "\n",
        },
    )

def _go_command(ctx):
    """The host go command: on PATH, under $GOROOT or in /usr/local/go."""
    go = ctx.which("go")
    if go:
        return go
    for root in [ctx.os.environ.get("GOROOT", ""), "/usr/local/go"]:
        if root and ctx.path(root + "/bin/go").exists:
            return ctx.path(root + "/bin/go")
    fail("no go command: put the Go SDK's bin directory on PATH or set GOROOT")

def _go_env(ctx):
    """Environment for the go command run by a repository rule."""
    env = {
        "GOFLAGS": "",
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "GO111MODULE": "on",
    }
    environ = ctx.os.environ
    if not environ.get("HOME"):
        # go keeps its caches under $HOME by default: without one, keep
        # them in Bazel's output base.
        output_base = str(ctx.path(".").dirname.dirname)
        if not environ.get("GOPATH"):
            # Also the home of the module cache, unless GOMODCACHE is set.
            env["GOPATH"] = output_base + "/gopath"
        if not environ.get("GOCACHE") and not environ.get("XDG_CACHE_HOME"):
            env["GOCACHE"] = output_base + "/go-build-cache"
    return env

def _run(ctx, args, what):
    res = ctx.execute(args, environment = _go_env(ctx), timeout = 1800)
    if res.return_code:
        fail("%s failed (exit %d):\n%s%s" % (what, res.return_code, res.stdout, res.stderr))
    return res

_GO_ENVIRON = ["GOPROXY", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GOSUMDB", "GOMODCACHE", "GOPATH", "GOROOT"]

def _go_modules_impl(ctx):
    go = _go_command(ctx)

    # Build tools/genbuild (standard library only) outside any module.
    srcdir = ctx.path(ctx.attr._genbuild_build).dirname
    srcs = []
    for f in srcdir.readdir():
        if f.basename.endswith(".go") and not f.basename.endswith("_test.go"):
            # Through a label, so that a change to the generator refetches.
            src = ctx.path(Label("//tools/genbuild:" + f.basename))
            ctx.symlink(src, "genbuild_src/" + f.basename)
            srcs.append("genbuild_src/" + f.basename)
    _run(ctx, [go, "build", "-o", "genbuild"] + srcs, "building tools/genbuild")

    _run(ctx, [
        "./genbuild",
        "-mode=modules",
        "-go",
        go,
        "-gomod",
        ctx.path(ctx.attr.go_mod),
        "-gosum",
        ctx.path(ctx.attr.go_sum),
        "-out",
        "modules.bzl",
    ], "reading go.mod and go.sum")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", 'exports_files(["genbuild", "modules.bzl"])\n')

go_modules = repository_rule(
    implementation = _go_modules_impl,
    attrs = {
        "go_mod": attr.label(default = "//:go.mod", allow_single_file = True),
        "go_sum": attr.label(default = "//:go.sum", allow_single_file = True),
        "_genbuild_build": attr.label(default = "//tools/genbuild:BUILD"),
    },
    environ = _GO_ENVIRON,
    local = False,
    doc = """Builds tools/genbuild and writes modules.bzl, whose
    go_module_repositories() declares a go_module per module in go.mod.
    Refetched when go.mod, go.sum or the generator change.""",
)

def _go_module_impl(ctx):
    args = [
        ctx.path(Label("@go_modules//:genbuild")),
        "-mode=fetch",
        "-go",
        _go_command(ctx),
        "-module",
        ctx.attr.path,
        "-version",
        ctx.attr.version,
        "-sum",
        ctx.attr.sum,
        "-out",
        ctx.path("."),
    ]
    if ctx.attr.generate:
        args += ["-generate", "-modules", ",".join(ctx.attr.modules)]
    _run(ctx, args, "fetching %s@%s" % (ctx.attr.path, ctx.attr.version))
    if ctx.attr.generate:
        ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    for patch in ctx.attr.patches:
        ctx.patch(patch, strip = 1)

go_module = repository_rule(
    implementation = _go_module_impl,
    attrs = {
        "path": attr.string(mandatory = True, doc = "Module path."),
        "version": attr.string(mandatory = True),
        "sum": attr.string(mandatory = True, doc = "h1: hash (as in go.sum) of the module zip."),
        "generate": attr.bool(default = True, doc = "Write a go_library per package (else the module has its own BUILD files)."),
        "modules": attr.string_list(doc = "Paths of the other modules, to resolve imports."),
        "patches": attr.label_list(allow_files = True, doc = "Applied with -p1 after extraction."),
    },
    environ = _GO_ENVIRON,
    doc = "A Go module fetched with `go mod download`, checked against its hash.",
)
