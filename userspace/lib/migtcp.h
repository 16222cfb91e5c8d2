/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by migtcp's userspace programs and selftests.
 */
#ifndef MIGTCP_USERSPACE_H
#define MIGTCP_USERSPACE_H

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

#endif /* MIGTCP_USERSPACE_H */
