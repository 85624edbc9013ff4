#ifndef TRACER_CLIBNFTABLES_SHIM_H
#define TRACER_CLIBNFTABLES_SHIM_H
/* libnftables: the library nft itself is built on (ruleset as JSON with handles, and the
   commands that add and remove the temporary trace table). */
#include <nftables/libnftables.h>
#endif
