/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handshake MAC of docs/protocol.md ("Handshake MAC"), computed from
 * the protocol's text with OpenSSL, for tests that play one side of a
 * handshake with segments built by hand:
 *
 *   MAC = first 16 bytes of HMAC-SHA256(K, label || I.node || I.port ||
 *                                       R.node || R.port || I.half ||
 *                                       R.half)
 *
 * and the option walk that finds it.  Link with libcrypto.
 */
#ifndef MIGTCP_HSMAC_H
#define MIGTCP_HSMAC_H

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define HS_SYNACK_LABEL	"migtcp v1 synack mac"
#define HS_ACK_LABEL	"migtcp v1 ack mac"

/*
 * The handshake MAC with @label of a connection opened by (@inode,
 * @iport) with half @ihalf to (@rnode, @rport) with half @rhalf, under
 * cluster key @key (NULL: none, 32 zero bytes), into @mac; 0 or -1.
 */
static inline int hs_mac(const __u8 *key, const char *label, __u32 inode,
			 __u16 iport, __u32 rnode, __u16 rport,
			 const __u8 *ihalf, const __u8 *rhalf, __u8 *mac)
{
	static const __u8 zero[MIGTCP_KEY_LEN];
	__u8 msg[64 + 12 + 2 * MIGTCP_KX_HALF_LEN], *p = msg;
	__u8 out[EVP_MAX_MD_SIZE];
	unsigned int out_len = 0;
	__u32 n;
	__u16 pt;

	memcpy(p, label, strlen(label));
	p += strlen(label);
	n = htonl(inode);
	memcpy(p, &n, 4);
	pt = htons(iport);
	memcpy(p + 4, &pt, 2);
	n = htonl(rnode);
	memcpy(p + 6, &n, 4);
	pt = htons(rport);
	memcpy(p + 10, &pt, 2);
	p += 12;
	memcpy(p, ihalf, MIGTCP_KX_HALF_LEN);
	memcpy(p + MIGTCP_KX_HALF_LEN, rhalf, MIGTCP_KX_HALF_LEN);
	p += 2 * MIGTCP_KX_HALF_LEN;
	if (!HMAC(EVP_sha256(), key ?: zero, MIGTCP_KEY_LEN, msg, p - msg,
		  out, &out_len) || out_len != 32)
		return -1;
	memcpy(mac, out, MIGTCP_HSMAC_LEN);
	return 0;
}

/* Writes a handshake MAC option carrying @mac at @opt (20 bytes). */
static inline void hs_put_opt(__u8 *opt, const __u8 *mac)
{
	opt[0] = MIGTCP_OPT_HSMAC;
	opt[1] = MIGTCP_OPTLEN_HSMAC;
	opt[2] = 0;
	opt[3] = 0;
	memcpy(opt + 4, mac, MIGTCP_HSMAC_LEN);
}

#endif /* MIGTCP_HSMAC_H */
