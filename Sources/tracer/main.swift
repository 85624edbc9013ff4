import TracerCLI

Tracer.main()
