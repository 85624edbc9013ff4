#ifndef TRACER_CLIBNFTABLES_SHIM_H
#define TRACER_CLIBNFTABLES_SHIM_H
/* libnftables: the library nft itself is built on (ruleset as JSON with handles, and the
   commands that add and remove the temporary trace table).

   It is opened with dlopen on first use, not linked: it brings five more libraries (libnftnl,
   libmnl, libxtables, libjansson, libgmp) whose loading would cost every tracer command about
   a millisecond at startup, while only `diagnose` and `egress` read the firewall. */
#include <dlfcn.h>
#include <stddef.h>
#include <nftables/libnftables.h>

struct tracer_nft_api {
    struct nft_ctx *(*ctx_new)(uint32_t flags);
    void (*ctx_free)(struct nft_ctx *ctx);
    void (*ctx_output_set_flags)(struct nft_ctx *ctx, unsigned int flags);
    int (*ctx_buffer_output)(struct nft_ctx *ctx);
    int (*ctx_buffer_error)(struct nft_ctx *ctx);
    const char *(*ctx_get_output_buffer)(struct nft_ctx *ctx);
    const char *(*ctx_get_error_buffer)(struct nft_ctx *ctx);
    int (*run_cmd_from_buffer)(struct nft_ctx *ctx, const char *buffer);
};

/* Fills `api` from libnftables.so.1. Returns NULL, or what went wrong (dlerror's text). */
static inline const char *tracer_nft_load(struct tracer_nft_api *api) {
    void *library = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) return dlerror();
#define TRACER_NFT_SYMBOL(field, name) \
    if (!(*(void **)&api->field = dlsym(library, name))) return "libnftables.so.1 lacks " name;
    TRACER_NFT_SYMBOL(ctx_new, "nft_ctx_new")
    TRACER_NFT_SYMBOL(ctx_free, "nft_ctx_free")
    TRACER_NFT_SYMBOL(ctx_output_set_flags, "nft_ctx_output_set_flags")
    TRACER_NFT_SYMBOL(ctx_buffer_output, "nft_ctx_buffer_output")
    TRACER_NFT_SYMBOL(ctx_buffer_error, "nft_ctx_buffer_error")
    TRACER_NFT_SYMBOL(ctx_get_output_buffer, "nft_ctx_get_output_buffer")
    TRACER_NFT_SYMBOL(ctx_get_error_buffer, "nft_ctx_get_error_buffer")
    TRACER_NFT_SYMBOL(run_cmd_from_buffer, "nft_run_cmd_from_buffer")
#undef TRACER_NFT_SYMBOL
    return NULL;
}
#endif
