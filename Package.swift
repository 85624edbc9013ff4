// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tracer",
    products: [
        .executable(name: "tracer", targets: ["tracer"]),
    ],
    targets: [
        // libbpf from Debian's libbpf-dev, through pkg-config; nothing else lives here.
        .systemLibrary(
            name: "CLibBPF",
            pkgConfig: "libbpf",
            providers: [.apt(["libbpf-dev", "libelf-dev", "zlib1g-dev"])]
        ),
        // libnftables' header from Debian's libnftables-dev: reads rulesets and adds/removes the
        // trace table. The library is opened with dlopen when first needed (see its shim.h).
        .systemLibrary(name: "CLibNftables"),
        // Linux system calls glibc does not wrap yet (listmount, statmount): a header, no library.
        .systemLibrary(name: "CLinux"),
        // The event ABI shared with the BPF programs: the headers in bpf/include, checked by abi_check.c.
        .target(
            name: "TracerABI",
            path: "bpf",
            exclude: ["lib"],
            sources: ["abi/abi_check.c"],
            publicHeadersPath: "include"
        ),
        // Compiles bpf/*.bpf.c with clang -target bpf and embeds the objects as Swift sources.
        .plugin(name: "BPFCompiler", capability: .buildTool()),
        .target(name: "BPFPrograms", plugins: ["BPFCompiler"]),
        // Typed wrapper over libbpf: the only module with unsafe pointers and raw descriptors.
        .target(name: "BPF", dependencies: ["CLibBPF"]),
        // Decoding, attribution, pipelines and renderers.
        .target(name: "TracerCore", dependencies: ["BPF", "BPFPrograms", "TracerABI", "CLibNftables", "CLinux"]),
        .executableTarget(
            name: "tracer",
            dependencies: ["TracerCore"]
        ),
        .testTarget(name: "TracerCoreTests", dependencies: ["TracerCore", "TracerABI"], resources: [.copy("Fixtures")]),
        // Test helpers shared by the privileged suites: running the lab scripts in tools/lab.
        .target(name: "LabSupport", path: "Tests/LabSupport"),
        .testTarget(name: "IntegrationTests", dependencies: ["TracerCore", "BPF", "BPFPrograms", "TracerABI", "LabSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["tracer", "LabSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
