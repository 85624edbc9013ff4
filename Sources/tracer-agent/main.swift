import TracerAgent
import TracerCLI

// `tracer agent` runs this executable (or it runs on its own, as the image's and the unit's
// entry): the agent's metrics side links swift-nio and swift-prometheus, which `tracer` does not.
Tracer.agentMain { try Agent($0) }
