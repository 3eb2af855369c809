"""C++ code generation for .proto files with Debian's protoc and grpc_cpp_plugin."""

def cc_grpc_library(name, srcs, deps = [], services = True, **kwargs):
    """Generates message and gRPC service code for `srcs` and wraps it in a cc_library.

    Paths are relative to the workspace root (-I.); well-known types come from /usr/include.
    """
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if services:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    pkg = native.package_name()
    native.genrule(
        name = name + "_gen",
        srcs = srcs,
        outs = outs,
        cmd = " ".join([
            "/usr/bin/protoc",
            "-I.",
            "--cpp_out=$(GENDIR)",
        ] + ([
            "--grpc_out=$(GENDIR)",
            "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin",
        ] if services else []) + ["%s/%s" % (pkg, s) for s in srcs]),
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@system//:grpc", "@system//:protobuf"],
        **kwargs
    )
