// SPDX-License-Identifier: GPL-2.0
/*
 * Segments built by hand (migtcpctl's peer probe, the selftests): their
 * checksum, as the module verifies it.
 */
#include <stddef.h>
#include <string.h>

#include "migtcp.h"

/* RFC 1071's sum of @len bytes as big-endian 16-bit words, unfolded. */
static uint32_t migtcp_sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

void migtcp_seg_set_check(void *seg, size_t len, uint32_t saddr,
			  uint32_t daddr, int proto)
{
	const size_t check = offsetof(struct migtcphdr, check);
	uint8_t *s = seg, pseudo[12];
	uint32_t sum;

	memcpy(pseudo, &saddr, 4);
	memcpy(pseudo + 4, &daddr, 4);
	pseudo[8] = 0;
	pseudo[9] = (uint8_t)proto;
	pseudo[10] = (uint8_t)(len >> 8);
	pseudo[11] = (uint8_t)len;
	s[check] = 0;
	s[check + 1] = 0;
	sum = migtcp_sum16(pseudo, sizeof(pseudo), migtcp_sum16(s, len, 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	s[check] = (uint8_t)(sum >> 8);
	s[check + 1] = (uint8_t)sum;
}
