#ifndef TRACER_CLIBBPF_SHIM_H
#define TRACER_CLIBBPF_SHIM_H
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>
#include <sys/utsname.h>
/* StopEvent: an eventfd a signal handler can write to (not in every Swift Glibc module map) */
#include <sys/eventfd.h>
#endif
