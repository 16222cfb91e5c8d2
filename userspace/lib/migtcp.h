/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by migtcp's userspace programs and selftests.
 */
#ifndef MIGTCP_USERSPACE_H
#define MIGTCP_USERSPACE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/migtcp.h>

/*
 * The address family and IP protocol number the loaded module uses.
 * Both return the number, or -errno when the module is not loaded
 * (-ENOENT) or its parameter cannot be read or parsed.
 */
int migtcp_family(void);
int migtcp_proto(void);

/* Reads one parameter from /sys/module/migtcp/parameters/NAME. */
int migtcp_module_param(const char *name);

/*
 * Fills in the checksum of @seg, a migtcp segment of @len bytes (at most
 * 65535), over the IPv4 pseudo-header of @saddr to @daddr (network byte
 * order) and protocol @proto.
 */
void migtcp_seg_set_check(void *seg, size_t len, uint32_t saddr,
			  uint32_t daddr, int proto);

#endif /* MIGTCP_USERSPACE_H */
