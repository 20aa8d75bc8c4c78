// Keeps the agent's glibc floor at 2.34 (Ubuntu 22.04, Amazon Linux 2023).
//
// The agent links the Swift runtime, libstdc++ and libgcc statically (Package.swift). Built on
// a newer glibc, those archives reference three symbols that glibc re-versioned or added after
// 2.34, so the binary would refuse to start on 2.34 with "version `GLIBC_2.35' not found":
//   hypotf            libswiftCore.a          GLIBC_2.35 (new implementation)
//   arc4random        libstdc++.a (random)    GLIBC_2.36 (new function)
//   _dl_find_object   libgcc_eh.a (unwinder)  GLIBC_2.35 (new function)
// Defining them here binds those references to these copies instead, which use only calls
// that exist in every glibc since 2.25. See docs/agent.md.
#if defined(__linux__)
#define _GNU_SOURCE
#include <features.h>  // defines __GLIBC__, which decides the rest
#endif
#include "CAgentCompat.h"
#if defined(__linux__) && defined(__GLIBC__)
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

// hypot of two floats, computed in double: the squares cannot overflow or lose precision
// there, so one rounding at the end gives the float result. No libm call is needed.
float hypotf(float x, float y) {
    if (__builtin_isinf(x) || __builtin_isinf(y)) return __builtin_inff();
    double dx = (double)x, dy = (double)y;
    return (float)__builtin_sqrt(dx * dx + dy * dy);
}

// Random numbers from the kernel (getrandom, GLIBC_2.25), /dev/urandom on very old kernels.
uint32_t arc4random(void) {
    uint32_t value = 0;
    for (;;) {
        ssize_t n = getrandom(&value, sizeof value, 0);
        if (n == (ssize_t)sizeof value) return value;
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n;
        do { n = read(fd, &value, sizeof value); } while (n < 0 && errno == EINTR);
        close(fd);
    }
    return value;
}

// The unwinder's lookup of the object that holds a code address, done the pre-2.35 way with
// dl_iterate_phdr: the mapping that contains the address and its PT_GNU_EH_FRAME segment.
// Only a build host with glibc ≥ 2.35 has the struct, and only there does libgcc call it.
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)
struct find_context {
    uintptr_t pc;
    struct dl_find_object *result;
    int found;
};

static int find_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct find_context *context = data;
    uintptr_t low = UINTPTR_MAX, high = 0;
    const void *eh_frame = NULL;
    int contains = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
            if (start < low) low = start;
            if (end > high) high = end;
            if (context->pc >= start && context->pc < end) contains = 1;
        } else if (ph->p_type == PT_GNU_EH_FRAME) {
            eh_frame = (const void *)(info->dlpi_addr + ph->p_vaddr);
        }
    }
    if (!contains) return 0;
    memset(context->result, 0, sizeof *context->result);
    context->result->dlfo_map_start = (void *)low;
    context->result->dlfo_map_end = (void *)high;
    context->result->dlfo_eh_frame = (void *)eh_frame;
    context->found = 1;
    return 1;
}

int _dl_find_object(void *pc, struct dl_find_object *result) {
    struct find_context context = { (uintptr_t)pc, result, 0 };
    dl_iterate_phdr(find_object, &context);
    return context.found ? 0 : -1;
}
#endif  // glibc >= 2.35
#endif  // Linux with glibc

int cagent_compat_linked(void) { return 1; }
