// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tracer",
    products: [
        .executable(name: "tracer", targets: ["tracer"]),
        // `tracer agent` runs it: the only executable that links swift-nio and swift-prometheus.
        .executable(name: "tracer-agent", targets: ["tracer-agent"]),
    ],
    dependencies: [
        // `tracer-agent` only: the metrics endpoint (HTTP) and the Prometheus text exposition.
        // Neither product links Foundation (theTracerLinksNoFoundation keeps it so).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // libbpf's headers from Debian's libbpf-dev (tools/setup.sh installs it with libelf-dev
        // and zlib1g-dev); the archives are linked into BPF below.
        .systemLibrary(name: "CLibBPF"),
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
        // Typed wrapper over libbpf: the only module with libbpf's pointers. In TracerCore, unsafe
        // pointers stay in the byte decoders and the system-call edges (UnsafeCodeTests lists them).
        // libbpf, libelf and zlib are linked statically: loading three more shared objects cost
        // every command about 0.3 ms (the machine's page faults are dear).
        .target(name: "BPF", dependencies: ["CLibBPF"], linkerSettings: [
            .linkedLibrary(":libbpf.a"), .linkedLibrary(":libelf.a"), .linkedLibrary(":libz.a"),
        ]),
        // Decoding, attribution, pipelines and renderers.
        .target(name: "TracerCore", dependencies: ["BPF", "BPFPrograms", "TracerABI", "CLibNftables", "CLinux"]),
        // `tracer agent`: the sessions of top and drops (and the exec stream) side by side, their
        // records as Prometheus metrics served over HTTP.
        .target(name: "TracerAgent", dependencies: [
            "TracerCore",
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // The command line: parsing, validation, the sessions' outcomes as exit codes.
        .target(name: "TracerCLI", dependencies: ["TracerCore", "BPF"]),
        .executableTarget(name: "tracer", dependencies: ["TracerCLI"]),
        .executableTarget(name: "tracer-agent", dependencies: ["TracerCLI", "TracerAgent"]),
        .testTarget(name: "TracerCoreTests", dependencies: ["TracerCore", "TracerABI", "BPF", "BPFPrograms"], resources: [.copy("Fixtures")]),
        // Test helpers shared by the privileged suites: running the lab scripts in tools/lab.
        .target(name: "LabSupport", dependencies: ["BPF"], path: "Tests/LabSupport"),
        .testTarget(name: "TracerAgentTests", dependencies: ["TracerAgent", "TracerCore", "LabSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["TracerCore", "BPF", "BPFPrograms", "TracerABI", "LabSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["tracer", "tracer-agent", "LabSupport", "BPF"]),
    ],
    swiftLanguageModes: [.v6]
)
