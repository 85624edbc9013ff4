import Foundation
import PackagePlugin

/// Builds every `bpf/*.bpf.c` into a BPF object and embeds it in a generated Swift file,
/// so the `tracer` binary carries its programs and runs with nothing beside it.
/// The work is done by `tools/build-bpf.sh`; this plugin only tells SwiftPM the inputs and outputs.
@main
struct BPFCompiler: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let bpfDirectory = root.appending(path: "bpf")
        let script = root.appending(path: "tools/build-bpf.sh")
        let clang = try context.tool(named: "clang").url

        let files = FileManager.default.enumerator(at: bpfDirectory, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL } ?? []
        let headers = files.filter { $0.pathExtension == "h" }
        let programs = files.filter { $0.lastPathComponent.hasSuffix(".bpf.c") && $0.deletingLastPathComponent().lastPathComponent == "bpf" }
            .sorted { $0.path < $1.path }

        return programs.map { program in
            let name = String(program.lastPathComponent.dropLast(".bpf.c".count))
            let output = context.pluginWorkDirectoryURL.appending(path: "\(name).bpf.swift")
            return .buildCommand(
                displayName: "Compiling BPF program \(name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, clang.path, program.path, bpfDirectory.path, name, output.path],
                inputFiles: [program, script] + headers,
                outputFiles: [output]
            )
        }
    }
}
