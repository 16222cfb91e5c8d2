// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of node ids, IPv4 and IPv6 addresses, port ranges, counts
 * and the cluster key file, shared by the command line and the cluster
 * file.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "output.h"
#include "parse.h"

#define KEY_HEX_LEN	(2 * MIGTCP_KEY_LEN)

/* Decimal digits only: no sign, no blanks, no base prefix. */
bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long val;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	val = strtoull(s, &end, 10);
	if (errno || *end || val < min || val > max)
		return false;
	*out = (uint32_t)val;
	return true;
}

bool parse_ipv4(const char *s, uint32_t *addr_be)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return false;
	*addr_be = in.s_addr;
	return true;
}

bool parse_ipv6(const char *s, struct in6_addr *addr)
{
	return inet_pton(AF_INET6, s, addr) == 1;
}

/*
 * The kernel's rule for IPv4 node and peer addresses
 * (migtcp_addr4_is_unicast() in the module's netlink.c): an address that
 * reaches another host.  @addr_be in network order.
 */
const char *ipv4_underlay_error(uint32_t addr_be)
{
	uint8_t first = ntohl(addr_be) >> 24;

	if (first == 0)
		return "in 0.0.0.0/8 (\"this network\")";
	if (first == 127)
		return "a loopback address";
	if (first < 224)
		return NULL;
	if (first < 240)
		return "a multicast address";
	return "a reserved or broadcast address";
}

/*
 * The kernel's rule for node and peer addresses (ipv6_addr_type() in
 * the module): an address that names one interface of one host anywhere
 * in the cluster's network, not a deprecated site-local one (RFC 3879),
 * not an IPv4 address in IPv6 clothes.
 */
const char *ipv6_underlay_error(const struct in6_addr *addr)
{
	if (IN6_IS_ADDR_UNSPECIFIED(addr))
		return "the unspecified address";
	if (IN6_IS_ADDR_LOOPBACK(addr))
		return "the loopback address";
	if (IN6_IS_ADDR_MULTICAST(addr))
		return "a multicast address";
	if (IN6_IS_ADDR_LINKLOCAL(addr))
		return "a link-local address";
	if (IN6_IS_ADDR_SITELOCAL(addr))
		return "a site-local address";
	if (IN6_IS_ADDR_V4MAPPED(addr))
		return "an IPv4-mapped address";
	if (IN6_IS_ADDR_V4COMPAT(addr))
		return "an IPv4-compatible address";
	return NULL;
}

/* NULL if S is a valid "LO-HI", else what is wrong with it. */
static const char *port_range_error(const char *s, uint16_t *lo,
				    uint16_t *hi)
{
	const char *dash = strchr(s, '-');
	uint32_t l, h;
	char first[16];

	if (!dash || (size_t)(dash - s) >= sizeof(first))
		return "expected LO-HI";
	memcpy(first, s, dash - s);
	first[dash - s] = '\0';
	if (!parse_u32(first, 0, UINT32_MAX, &l) ||
	    !parse_u32(dash + 1, 0, UINT32_MAX, &h))
		return "expected LO-HI, two decimal port numbers";
	if (l < 1 || l > 65535 || h < 1 || h > 65535)
		return "ports are 1 to 65535";
	if (l > h)
		return "LO is above HI";
	*lo = (uint16_t)l;
	*hi = (uint16_t)h;
	return NULL;
}

bool parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	return !port_range_error(s, lo, hi);
}

int arg_node_id(const char *s, uint32_t *id)
{
	if (parse_u32(s, 1, UINT32_MAX, id))
		return 0;
	return usage_err("invalid node id '%s': expected 1 to %u", s,
			 UINT32_MAX);
}

int arg_addr(const char *s, bool *addr_set, uint32_t *addr,
	     bool *addr6_set, struct in6_addr *addr6)
{
	char first[IPV6_STR_LEN];
	struct in6_addr a6;
	uint32_t a4;

	if (parse_ipv4(s, &a4)) {
		if (*addr_set)
			return usage_err("two IPv4 addresses, %s and %s: give at most one of each family",
					 ipv4_str(*addr, first), s);
		*addr_set = true;
		*addr = a4;
		return 0;
	}
	if (parse_ipv6(s, &a6)) {
		if (*addr6_set)
			return usage_err("two IPv6 addresses, %s and %s: give at most one of each family",
					 ipv6_str(addr6, first), s);
		*addr6_set = true;
		*addr6 = a6;
		return 0;
	}
	return usage_err("invalid address '%s': expected an IPv4 or IPv6 address",
			 s);
}

int arg_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	const char *why = port_range_error(s, lo, hi);

	if (!why)
		return 0;
	return usage_err("invalid port range '%s': %s", s, why);
}

int arg_count(const char *s, uint32_t *count)
{
	if (parse_u32(s, 1, UINT32_MAX, count))
		return 0;
	return usage_err("invalid count '%s': expected 1 to %u", s,
			 UINT32_MAX);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* LEN bytes of TEXT, trailing white space already removed. */
static int parse_key_text(const char *text, size_t len,
			  uint8_t key[MIGTCP_KEY_LEN], char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (hex_value(text[i]) >= 0)
			continue;
		if (isprint((unsigned char)text[i]))
			snprintf(err, errlen,
				 "character %zu ('%c') is not a hex digit",
				 i + 1, text[i]);
		else
			snprintf(err, errlen,
				 "character %zu (byte 0x%02x) is not a hex digit",
				 i + 1, (unsigned char)text[i]);
		return -1;
	}
	if (len != KEY_HEX_LEN) {
		snprintf(err, errlen,
			 "has %zu hex digits, expected %d (a %d-byte key)",
			 len, KEY_HEX_LEN, MIGTCP_KEY_LEN);
		return -1;
	}
	for (i = 0; i < MIGTCP_KEY_LEN; i++)
		key[i] = (uint8_t)(hex_value(text[2 * i]) << 4 |
				   hex_value(text[2 * i + 1]));
	return 0;
}

int read_key_file(const char *path, uint8_t key[MIGTCP_KEY_LEN],
		  char *err, size_t errlen)
{
	/* Room for the key and generous trailing white space. */
	char text[KEY_HEX_LEN + 64];
	struct stat st;
	size_t len;
	FILE *f;
	int ret;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	/*
	 * Whoever reads the key can pass for any node of the cluster: as
	 * ssh does with private keys, a key file others can read or write
	 * is refused.
	 */
	if (fstat(fileno(f), &st) < 0) {
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		fclose(f);
		return -1;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(err, errlen,
			 "is open to group or others (mode %04o): a cluster key must be private (chmod 600 %s)",
			 (unsigned int)(st.st_mode & 07777), path);
		fclose(f);
		return -1;
	}
	len = fread(text, 1, sizeof(text), f);
	ret = ferror(f) ? -1 : 0;
	if (ret)
		snprintf(err, errlen, "cannot read: %s", strerror(errno));
	else if (len == sizeof(text))
		snprintf(err, errlen, "is too long for a key of %d hex digits",
			 KEY_HEX_LEN);
	fclose(f);
	if (ret || len == sizeof(text))
		return -1;
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	if (!len) {
		snprintf(err, errlen, "is empty, expected %d hex digits",
			 KEY_HEX_LEN);
		return -1;
	}
	ret = parse_key_text(text, len, key, err, errlen);
	explicit_bzero(text, sizeof(text));
	return ret;
}
