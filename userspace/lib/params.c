// SPDX-License-Identifier: GPL-2.0
/*
 * The module's family and protocol numbers are module parameters; a
 * program finds the values in use in sysfs rather than trusting the
 * compiled-in defaults.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "migtcp.h"

#define MIGTCP_PARAM_DIR "/sys/module/migtcp/parameters/"

int migtcp_module_param(const char *name)
{
	char path[256], buf[32], *end;
	long value;
	FILE *f;
	int err;

	if (snprintf(path, sizeof(path), MIGTCP_PARAM_DIR "%s", name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		err = ferror(f) ? -EIO : -ENODATA;
		fclose(f);
		return err;
	}
	fclose(f);
	errno = 0;
	value = strtol(buf, &end, 10);
	if (errno || end == buf || (*end != '\n' && *end != '\0') ||
	    value < 0 || value > INT_MAX)
		return -EINVAL;
	return (int)value;
}

int migtcp_family(void)
{
	return migtcp_module_param("family");
}

int migtcp_proto(void)
{
	return migtcp_module_param("proto");
}
