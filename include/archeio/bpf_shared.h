/* Layouts shared by the XDP program (bpf/) and userspace (user/).
 * Plain fixed-size types only: this header is compiled by clang -target bpf
 * and by the host compiler. */
#ifndef ARCHEIO_BPF_SHARED_H
#define ARCHEIO_BPF_SHARED_H

#ifdef __bpf__
#include "vmlinux.h"
typedef __u8 archeio_u8;
typedef __u32 archeio_u32;
#else
#include <stdint.h>
typedef uint8_t archeio_u8;
typedef uint32_t archeio_u32;
#endif

#define REGION_CLOUD_MAX 16  /* including NUL */
#define REGION_NAME_MAX 48   /* including NUL */

/* Value of the regions table (id -> names), readable in `bpftool map dump`. */
struct region_name {
	char cloud[REGION_CLOUD_MAX];
	char region[REGION_NAME_MAX];
};

#endif
