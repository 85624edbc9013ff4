import BPF
import TracerABI

/// Everything `NetProbe` names in bpf/net.bpf.c, with the types it reads and writes.
enum NetObject {
    static let config = VariableSchema<tracer_net_config>("net_config", in: .rodata)
    static let events = OpaqueMapSchema("events")
    static let lostEvents = MapSchema<UInt32, UInt64>("lost_events")
    static let uncountedDrops = MapSchema<UInt32, UInt64>("uncounted_drops")
    static let deviceSlots = MapSchema<UInt32, tracer_device_slot>("scoped_ifindex")
    static let scopedDevices = MapSchema<tracer_device_key, tracer_device_scope>("scoped_devices")
    static let scopedNamespaces = MapSchema<UInt32, tracer_netns_scope>("scoped_netns")
    static let endpointHints = MapSchema<UInt32, UInt32>("endpoint_hints")
    static let endpointAddresses = MapSchema<tracer_addr, UInt32>("endpoint_addrs")
    static let deviceStats = MapSchema<tracer_device_key, tracer_device_stats>("device_stats")
    static let flowSlots = MapSchema<UInt32, tracer_flow_slot>("flow_slots")
    static let flows = MapSchema<tracer_flow_key, tracer_flow_stats>("flows")
    static let dropCounts = MapSchema<tracer_drop_key, UInt64>("drop_counts")
    static let publishedPorts = MapSchema<tracer_published_key, tracer_published_target>("published_ports")
    static let publishedPortHints = MapSchema<UInt32, UInt32>("published_port_hints")
    /// The stage programs, left out when only drops are traced.
    static let stagePrograms = [ProgramSchema("handle_receive"), ProgramSchema("handle_queue")]
    static let dropProgram = ProgramSchema("handle_kfree_skb")

    static var schema: ObjectSchema {
        var schema = ObjectSchema()
        schema.add(config)
        schema.add(events)
        for map in [lostEvents, uncountedDrops] { schema.add(map) }
        schema.add(deviceSlots)
        schema.add(scopedDevices)
        schema.add(scopedNamespaces)
        schema.add(endpointHints)
        schema.add(endpointAddresses)
        schema.add(deviceStats)
        schema.add(flowSlots)
        schema.add(flows)
        schema.add(dropCounts)
        schema.add(publishedPorts)
        schema.add(publishedPortHints)
        schema.add(stagePrograms + [dropProgram])
        return schema
    }
}
