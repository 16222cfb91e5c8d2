// SPDX-License-Identifier: GPL-2.0
/*
 * The per-connection key exchange (docs/protocol.md, "Key exchange"):
 * each side draws a 32-byte secret half per connection and sends it in
 * the KX option of every SYN it sends; when the handshake completes both
 * compute
 *
 *   conn_key = HMAC-SHA256(K, "migtcp v1 conn key" || A.node || A.port ||
 *                          A.half || B.node || B.port || B.half)
 *
 * with K the node's cluster key (32 zero bytes without one) and A, B the
 * two endpoints ordered by (node id, port).  conn_key will authenticate
 * the connection's migration control messages.
 *
 * One HMAC-SHA256 transform serves every connection of every node.  The
 * exchange completes in softirq context, where nothing may be allocated,
 * so the transform is allocated at module load, and the key it holds
 * between setkey and digest is guarded by a spinlock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/string.h>

#include "migtcp.h"

#define MIGTCP_KX_LABEL		"migtcp v1 conn key"
#define MIGTCP_KX_LABEL_LEN	(sizeof(MIGTCP_KX_LABEL) - 1)
#define MIGTCP_FP_LABEL		"migtcp v1 fingerprint"
#define MIGTCP_FP_LABEL_LEN	(sizeof(MIGTCP_FP_LABEL) - 1)

/* An endpoint's part of the HMAC input: node id, port, half. */
#define MIGTCP_KX_END_LEN	(4 + 2 + MIGTCP_KX_HALF_LEN)
#define MIGTCP_KX_MSG_LEN	(MIGTCP_KX_LABEL_LEN + 2 * MIGTCP_KX_END_LEN)

static struct crypto_shash *migtcp_kx_tfm;
static DEFINE_SPINLOCK(migtcp_kx_lock);	/* the key in migtcp_kx_tfm */

/* @out = HMAC-SHA256(@key, @msg), with the 32-byte @key. */
int migtcp_hmac(const u8 *key, const u8 *msg, unsigned int len, u8 *out)
{
	SHASH_DESC_ON_STACK(desc, migtcp_kx_tfm);
	int err;

	desc->tfm = migtcp_kx_tfm;
	spin_lock_bh(&migtcp_kx_lock);
	err = crypto_shash_setkey(migtcp_kx_tfm, key, MIGTCP_KEY_LEN);
	if (!err)
		err = crypto_shash_digest(desc, msg, len, out);
	spin_unlock_bh(&migtcp_kx_lock);
	/* The descriptor holds the hash state of the keyed pads. */
	shash_desc_zero(desc);
	return err;
}

/* A fresh half for a connection we open (each connect() draws anew). */
void migtcp_kx_connect(struct sock *sk)
{
	struct migtcp_kx *kx = &migtcp_sk(sk)->kx;

	get_random_bytes(kx->half, sizeof(kx->half));
	memzero_explicit(kx->peer_half, sizeof(kx->peer_half));
	memzero_explicit(kx->conn_key, sizeof(kx->conn_key));
	kx->peer_flags = 0;
	kx->done = false;
}

/*
 * A listener's new connection: our half, and the SYN's, kept until the
 * ACK completes the handshake.  @opts carries a usable KX option.
 */
void migtcp_kx_accept(struct sock *child, const struct migtcp_syn_opts *opts)
{
	struct migtcp_kx *kx = &migtcp_sk(child)->kx;

	get_random_bytes(kx->half, sizeof(kx->half));
	memcpy(kx->peer_half, opts->kx_half, sizeof(kx->peer_half));
	kx->peer_flags = opts->kx_flags;
}

/* Writes the KX option (MIGTCP_OPTLEN_KX bytes) of a SYN of @sk at @opt. */
void migtcp_kx_write_opt(const struct sock *sk, u8 *opt)
{
	const struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	const struct migtcp_kx *kx = &migtcp_sk(sk)->kx;

	opt[0] = MIGTCP_OPT_KX;
	opt[1] = MIGTCP_OPTLEN_KX;
	opt[2] = MIGTCP_KX_SUITE_HMAC_SHA256;
	opt[3] = READ_ONCE(mn->node.key_set) ? MIGTCP_KX_F_KEY : 0;
	memcpy(opt + 4, kx->half, MIGTCP_KX_HALF_LEN);
}

/* Appends an endpoint's (node id, port, half) to the HMAC input at @p. */
static u8 *migtcp_kx_put_end(u8 *p, u32 node, u16 port, const u8 *half)
{
	put_unaligned_be32(node, p);
	put_unaligned_be16(port, p + 4);
	memcpy(p + 6, half, MIGTCP_KX_HALF_LEN);
	return p + MIGTCP_KX_END_LEN;
}

/*
 * The node's cluster key into @key, or 32 zero bytes without one;
 * returns whether there is one.
 */
static bool migtcp_kx_node_key(struct migtcp_net *mn, u8 *key)
{
	bool key_set;

	spin_lock_bh(&mn->node.key_lock);
	key_set = mn->node.key_set;
	if (key_set)
		memcpy(key, mn->node.key, MIGTCP_KEY_LEN);
	else
		memset(key, 0, MIGTCP_KEY_LEN);
	spin_unlock_bh(&mn->node.key_lock);
	return key_set;
}

/*
 * The key of the REDIRECTs a registrar sends: HMAC-SHA256(cluster key,
 * "migtcp v1 redirect") into @key.  False, and no key, without a cluster
 * key: REDIRECTs then carry no MAC.
 */
bool migtcp_kx_redirect_key(struct net *net, u8 *key)
{
	static const char label[] = "migtcp v1 redirect";
	u8 node_key[MIGTCP_KEY_LEN];
	bool set;

	set = migtcp_kx_node_key(migtcp_pernet(net), node_key);
	if (set && migtcp_hmac(node_key, label, sizeof(label) - 1, key))
		set = false;
	memzero_explicit(node_key, sizeof(node_key));
	return set;
}

/*
 * The handshake of @sk completed with a peer that sent @peer_half and
 * @peer_flags: computes conn_key and forgets the halves.  The peer's K
 * flag never chooses the key (an attacker on the path could clear it);
 * it only tells that the two sides' keys differ, which leaves a
 * connection that cannot follow a migration.
 */
int migtcp_kx_complete(struct sock *sk, const u8 *peer_half, u8 peer_flags)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_kx *kx = &msk->kx;
	u64 local = (u64)msk->local_node << 16 | msk->local_port;
	u64 remote = (u64)msk->remote_node << 16 | msk->remote_port;
	u8 msg[MIGTCP_KX_MSG_LEN], key[MIGTCP_KEY_LEN];
	u8 conn_key[SHA256_DIGEST_SIZE];
	bool key_set;
	u8 *p;
	int err;

	BUILD_BUG_ON(sizeof(msg) != 18 + 2 * 38);
	memcpy(msg, MIGTCP_KX_LABEL, MIGTCP_KX_LABEL_LEN);
	p = msg + MIGTCP_KX_LABEL_LEN;
	/* The smaller endpoint first, whichever side opened. */
	if (local < remote) {
		p = migtcp_kx_put_end(p, msk->local_node, msk->local_port,
				      kx->half);
		migtcp_kx_put_end(p, msk->remote_node, msk->remote_port,
				  peer_half);
	} else {
		p = migtcp_kx_put_end(p, msk->remote_node, msk->remote_port,
				      peer_half);
		migtcp_kx_put_end(p, msk->local_node, msk->local_port,
				  kx->half);
	}

	key_set = migtcp_kx_node_key(mn, key);
	err = migtcp_hmac(key, msg, sizeof(msg), conn_key);
	memzero_explicit(key, sizeof(key));
	memzero_explicit(msg, sizeof(msg));
	memzero_explicit(kx->half, sizeof(kx->half));
	memzero_explicit(kx->peer_half, sizeof(kx->peer_half));
	if (err) {
		memzero_explicit(conn_key, sizeof(conn_key));
		return err;
	}
	memcpy(kx->conn_key, conn_key, sizeof(kx->conn_key));
	memzero_explicit(conn_key, sizeof(conn_key));
	kx->peer_flags = peer_flags;
	kx->done = true;

	if (!!(peer_flags & MIGTCP_KX_F_KEY) != key_set)
		net_warn_ratelimited("node %u: connection %u:%u -> %u:%u: %s, the peer %s: the cluster keys differ, the connection cannot migrate\n",
				     msk->local_node, msk->local_node,
				     msk->local_port, msk->remote_node,
				     msk->remote_port,
				     key_set ? "this node has a cluster key" :
					       "this node has no cluster key",
				     peer_flags & MIGTCP_KX_F_KEY ?
					"has one" : "has none");
	return 0;
}

/* The socket is going away: its key must not linger in freed memory. */
void migtcp_kx_forget(struct sock *sk)
{
	struct migtcp_kx *kx = &migtcp_sk(sk)->kx;

	memzero_explicit(kx, sizeof(*kx));
}

/*
 * A name for conn_key that does not reveal it: the first 8 bytes of
 * HMAC-SHA256(conn_key, "migtcp v1 fingerprint"), big-endian; 0 while
 * there is no key.  Both ends of a connection report the same value.
 */
u64 migtcp_kx_fingerprint(const struct sock *sk)
{
	const struct migtcp_kx *kx = &migtcp_sk(sk)->kx;
	u8 out[SHA256_DIGEST_SIZE];
	u64 fp;

	if (!kx->done)
		return 0;
	if (migtcp_hmac(kx->conn_key, (const u8 *)MIGTCP_FP_LABEL,
			MIGTCP_FP_LABEL_LEN, out))
		return 0;
	fp = get_unaligned_be64(out);
	memzero_explicit(out, sizeof(out));
	return fp;
}

int migtcp_kx_register(void)
{
	struct crypto_shash *tfm;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm)) {
		pr_err("cannot allocate hmac(sha256): %ld\n", PTR_ERR(tfm));
		return PTR_ERR(tfm);
	}
	migtcp_kx_tfm = tfm;
	return 0;
}

void migtcp_kx_unregister(void)
{
	crypto_free_shash(migtcp_kx_tfm);
	migtcp_kx_tfm = NULL;
}
