import CLibBPF

/// CPUs the kernel may bring online: the slot count of per-CPU maps and scratch arrays.
public func possibleCPUCount() -> Int {
    Int(libbpf_num_possible_cpus())
}
