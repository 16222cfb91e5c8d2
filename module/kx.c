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
 * The same halves are the nonces of the handshake MACs (docs/protocol.md,
 * "Handshake MAC"), which prove that each side holds the cluster key:
 *
 *   MAC = HMAC-SHA256(K, label || I.node || I.port || R.node || R.port ||
 *                     I.half || R.half), the first 16 bytes
 *
 * with I the side that sent the SYN, R the listener's, and the label
 * "migtcp v1 synack mac" (R's MAC, on its SYN-ACK) or "migtcp v1 ack mac"
 * (I's, on its ACK).
 *
 * The exchange completes in softirq context, where nothing may be
 * allocated.  MACs under the node's key use a transform keyed once per
 * key (migtcp_node.tfm; a node without a key uses one keyed with zeros,
 * made at module load): computing with it takes no lock.  MACs under
 * per-connection keys (control messages) use a transform of the CPU's
 * own, as TCP's MD5 pool: keyed and used with bottom halves off, so that
 * no CPU waits for another's MAC.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <linux/net.h>
#include <linux/percpu.h>
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

#define MIGTCP_HS_SYNACK_LABEL	"migtcp v1 synack mac"
#define MIGTCP_HS_ACK_LABEL	"migtcp v1 ack mac"
#define MIGTCP_HS_LABEL_MAX	(sizeof(MIGTCP_HS_SYNACK_LABEL) - 1)
/* Label, both identities, both halves. */
#define MIGTCP_HS_MSG_MAX	(MIGTCP_HS_LABEL_MAX + 2 * (4 + 2) + \
				 2 * MIGTCP_KX_HALF_LEN)

static struct crypto_shash * __percpu *migtcp_kx_tfms;	/* migtcp_hmac() */
static struct crypto_shash *migtcp_kx_zero_tfm;	/* keyed with zeros */
/* Keyed with random bytes at load: migtcp_secret_hmac(). */
static struct crypto_shash *migtcp_kx_secret_tfm;

/* A new hmac(sha256) transform keyed with the 32-byte @key, or ERR_PTR. */
struct crypto_shash *migtcp_kx_keyed_tfm(const u8 *key)
{
	struct crypto_shash *tfm;
	int err;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm))
		return tfm;
	err = crypto_shash_setkey(tfm, key, MIGTCP_KEY_LEN);
	if (err) {
		crypto_free_shash(tfm);
		return ERR_PTR(err);
	}
	return tfm;
}

/*
 * @out = HMAC-SHA256(the cluster key of @net's node, or 32 zero bytes
 * without one, @msg).  Returns whether the node has a key in *@key_set.
 */
static int migtcp_node_hmac(struct net *net, const u8 *msg, unsigned int len,
			    u8 *out, bool *key_set)
{
	struct migtcp_net *mn = migtcp_pernet(net);
	SHASH_DESC_ON_STACK(desc, migtcp_kx_zero_tfm);
	struct crypto_shash *tfm;
	int err;

	rcu_read_lock();
	tfm = rcu_dereference(mn->node.tfm);
	if (key_set)
		*key_set = !!tfm;
	desc->tfm = tfm ?: migtcp_kx_zero_tfm;
	err = crypto_shash_digest(desc, msg, len, out);
	rcu_read_unlock();
	shash_desc_zero(desc);
	return err;
}

/* @out = HMAC-SHA256(@key, @msg), with the 32-byte @key. */
int migtcp_hmac(const u8 *key, const u8 *msg, unsigned int len, u8 *out)
{
	SHASH_DESC_ON_STACK(desc, tfm);
	struct crypto_shash *tfm;
	int err;

	/* Nothing else on this CPU keys its transform until we are done. */
	local_bh_disable();
	tfm = *this_cpu_ptr(migtcp_kx_tfms);
	desc->tfm = tfm;
	err = crypto_shash_setkey(tfm, key, MIGTCP_KEY_LEN);
	if (!err)
		err = crypto_shash_digest(desc, msg, len, out);
	local_bh_enable();
	/* The descriptor holds the hash state of the keyed pads. */
	shash_desc_zero(desc);
	return err;
}

/*
 * @out = HMAC-SHA256(a key of this module's own, drawn at random when it
 * was loaded and never shown, @msg): what SYN cookies derive their
 * listener's half from (syncookie.c).
 */
int migtcp_secret_hmac(const u8 *msg, unsigned int len, u8 *out)
{
	SHASH_DESC_ON_STACK(desc, migtcp_kx_secret_tfm);
	int err;

	desc->tfm = migtcp_kx_secret_tfm;
	err = crypto_shash_digest(desc, msg, len, out);
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
	memzero_explicit(kx->proof, sizeof(kx->proof));
	kx->proof_pending = false;
	kx->peer_flags = 0;
	kx->done = false;
}

/*
 * The handshake MAC with label @label of a connection that @i (node id,
 * port, half) opened to @r, under the cluster key of @net's node, into
 * @mac; for a connection's socket, or a SYN cookie's, which has none.
 */
static int migtcp_hs_mac_ends(struct net *net, const char *label,
			      const struct migtcp_hs_end *i,
			      const struct migtcp_hs_end *r, u8 *mac)
{
	u8 msg[MIGTCP_HS_MSG_MAX], out[SHA256_DIGEST_SIZE];
	size_t llen = strlen(label);
	u8 *p = msg;
	int err;

	memcpy(p, label, llen);
	p += llen;
	put_unaligned_be32(i->node, p);
	put_unaligned_be16(i->port, p + 4);
	put_unaligned_be32(r->node, p + 6);
	put_unaligned_be16(r->port, p + 10);
	p += 12;
	memcpy(p, i->half, MIGTCP_KX_HALF_LEN);
	memcpy(p + MIGTCP_KX_HALF_LEN, r->half, MIGTCP_KX_HALF_LEN);
	p += 2 * MIGTCP_KX_HALF_LEN;

	err = migtcp_node_hmac(net, msg, p - msg, out, NULL);
	if (!err)
		memcpy(mac, out, MIGTCP_HSMAC_LEN);
	memzero_explicit(out, sizeof(out));
	memzero_explicit(msg, sizeof(msg));
	return err;
}

/* The listener's handshake MAC, for its SYN-ACK; see migtcp_hs_mac_ends(). */
int migtcp_hs_synack_mac(struct net *net, const struct migtcp_hs_end *i,
			 const struct migtcp_hs_end *r, u8 *mac)
{
	return migtcp_hs_mac_ends(net, MIGTCP_HS_SYNACK_LABEL, i, r, mac);
}

/*
 * The two ends of connection @sk, into @i (who sent the SYN) and @r:
 * @we_opened says whether we did; @peer_half is the peer's half.
 */
static void migtcp_hs_ends(const struct sock *sk, bool we_opened,
			   const u8 *peer_half, struct migtcp_hs_end *i,
			   struct migtcp_hs_end *r)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_hs_end *local = we_opened ? i : r;
	struct migtcp_hs_end *remote = we_opened ? r : i;

	local->node = msk->local_node;
	local->port = msk->local_port;
	local->half = msk->kx.half;
	remote->node = msk->remote_node;
	remote->port = msk->remote_port;
	remote->half = peer_half;
}

/*
 * The handshake MAC of connection @sk with the label @label, into @mac:
 * @we_opened says whether we sent the SYN; @peer_half is the peer's half.
 */
static int migtcp_hs_mac(const struct sock *sk, bool we_opened,
			 const char *label, const u8 *peer_half, u8 *mac)
{
	struct migtcp_hs_end i, r;

	migtcp_hs_ends(sk, we_opened, peer_half, &i, &r);
	return migtcp_hs_mac_ends(sock_net(sk), label, &i, &r, mac);
}

/*
 * A listener's new connection: our half (@half from a SYN cookie, else
 * drawn now), and the SYN's, kept until the ACK completes the handshake,
 * and our handshake MAC, for every SYN-ACK.  @opts carries a usable KX
 * option.
 */
int migtcp_kx_accept(struct sock *child, const struct migtcp_syn_opts *opts,
		     const u8 *half)
{
	struct migtcp_kx *kx = &migtcp_sk(child)->kx;

	if (half)
		memcpy(kx->half, half, sizeof(kx->half));
	else
		get_random_bytes(kx->half, sizeof(kx->half));
	memcpy(kx->peer_half, opts->kx_half, sizeof(kx->peer_half));
	kx->peer_flags = opts->kx_flags;
	return migtcp_hs_mac(child, false, MIGTCP_HS_SYNACK_LABEL,
			     kx->peer_half, kx->proof);
}

/*
 * The peer of @sk failed to prove our cluster key: say why, if its K flag
 * (@peer_flags) tells, since a key set on one node only is a common
 * mistake.  Rate-limited: anyone may send a SYN-ACK or an ACK.
 */
static void migtcp_hs_warn(struct net *net, u32 lnode, u16 lport, u32 rnode,
			   u16 rport, u8 peer_flags)
{
	bool key_set = READ_ONCE(migtcp_pernet(net)->node.key_set);
	const char *why = "the peer does not hold this node's cluster key";

	if (!!(peer_flags & MIGTCP_KX_F_KEY) != key_set)
		why = key_set ? "this node has a cluster key, the peer has none" :
				"this node has no cluster key, the peer has one";
	net_warn_ratelimited("node %u: connection %u:%u -> %u:%u refused, its handshake MAC does not verify: %s\n",
			     lnode, lnode, lport, rnode, rport, why);
}

/*
 * The connecting side @sk got an acceptable SYN-ACK with the peer's half
 * @peer_half, K flag @peer_flags and handshake MAC @mac (NULL: none).  0
 * if the MAC proves that the listener holds our cluster key; then our own
 * MAC is ready for the ACK, and repeated until the listener answers.
 * -ENOMSG without a MAC, -EBADMSG for a wrong one, another error if the
 * crypto layer failed.
 */
int migtcp_hs_check_synack(struct sock *sk, const u8 *peer_half,
			   u8 peer_flags, const u8 *mac)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_kx *kx = &msk->kx;
	u8 want[MIGTCP_HSMAC_LEN];
	int err;

	if (!mac)
		return -ENOMSG;
	err = migtcp_hs_mac(sk, true, MIGTCP_HS_SYNACK_LABEL, peer_half, want);
	if (!err && crypto_memneq(want, mac, MIGTCP_HSMAC_LEN)) {
		migtcp_hs_warn(sock_net(sk), msk->local_node, msk->local_port,
			       msk->remote_node, msk->remote_port, peer_flags);
		err = -EBADMSG;
	}
	memzero_explicit(want, sizeof(want));
	if (err)
		return err;
	err = migtcp_hs_mac(sk, true, MIGTCP_HS_ACK_LABEL, peer_half,
			    kx->proof);
	if (!err)
		kx->proof_pending = true;
	return err;
}

/*
 * A listener's child @child got the ACK of its SYN-ACK, with handshake
 * MAC @mac (NULL: none): 0 if it proves that the connecting side holds
 * our cluster key, else as migtcp_hs_check_synack().
 */
int migtcp_hs_check_ack(struct sock *child, const u8 *mac)
{
	const struct migtcp_sock *c = migtcp_sk(child);
	struct migtcp_hs_end i, r;

	migtcp_hs_ends(child, false, c->kx.peer_half, &i, &r);
	return migtcp_hs_check_ack_ends(sock_net(child), &i, &r,
					c->kx.peer_flags, mac);
}

/*
 * As migtcp_hs_check_ack(), for the connection that @i opened to @r
 * (whose K flag was @peer_flags), which may have no socket yet.
 */
int migtcp_hs_check_ack_ends(struct net *net, const struct migtcp_hs_end *i,
			     const struct migtcp_hs_end *r, u8 peer_flags,
			     const u8 *mac)
{
	u8 want[MIGTCP_HSMAC_LEN];
	int err;

	if (!mac)
		return -ENOMSG;
	err = migtcp_hs_mac_ends(net, MIGTCP_HS_ACK_LABEL, i, r, want);
	if (!err && crypto_memneq(want, mac, MIGTCP_HSMAC_LEN)) {
		migtcp_hs_warn(net, r->node, r->port, i->node, i->port,
			       peer_flags);
		err = -EBADMSG;
	}
	memzero_explicit(want, sizeof(want));
	return err;
}

/* Writes the handshake MAC option (MIGTCP_OPTLEN_HSMAC bytes) at @opt. */
void migtcp_hs_write_opt(const struct sock *sk, u8 *opt)
{
	migtcp_hs_put_opt(opt, migtcp_sk(sk)->kx.proof);
}

/* Writes a handshake MAC option with @mac at @opt. */
void migtcp_hs_put_opt(u8 *opt, const u8 *mac)
{
	opt[0] = MIGTCP_OPT_HSMAC;
	opt[1] = MIGTCP_OPTLEN_HSMAC;
	opt[2] = 0;
	opt[3] = 0;
	memcpy(opt + 4, mac, MIGTCP_HSMAC_LEN);
}

/*
 * Writes a KX option (MIGTCP_OPTLEN_KX bytes) from a node of @net at
 * @opt, with @half and @flags besides the K flag.
 */
void migtcp_kx_put_opt(struct net *net, u8 *opt, const u8 *half, u8 flags)
{
	const struct migtcp_net *mn = migtcp_pernet(net);

	opt[0] = MIGTCP_OPT_KX;
	opt[1] = MIGTCP_OPTLEN_KX;
	opt[2] = MIGTCP_KX_SUITE_HMAC_SHA256;
	opt[3] = flags | (READ_ONCE(mn->node.key_set) ? MIGTCP_KX_F_KEY : 0);
	memcpy(opt + 4, half, MIGTCP_KX_HALF_LEN);
}

/*
 * Writes the KX option of a SYN of @sk at @opt, or of its ACK answering
 * a SYN cookie.
 */
void migtcp_kx_write_opt(const struct sock *sk, u8 *opt)
{
	migtcp_kx_put_opt(sock_net(sk), opt, migtcp_sk(sk)->kx.half, 0);
}

/*
 * The listener took our handshake MAC (an acceptable segment without SYN
 * came): our ACKs stop carrying it, and the half it was sent with after
 * a SYN cookie is no longer needed.
 */
void migtcp_kx_proof_taken(struct sock *sk)
{
	struct migtcp_kx *kx = &migtcp_sk(sk)->kx;

	if (!kx->proof_pending)
		return;
	kx->proof_pending = false;
	memzero_explicit(kx->proof, sizeof(kx->proof));
	memzero_explicit(kx->half, sizeof(kx->half));
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
 * flag never chooses the key (an attacker on the path could clear it):
 * the handshake MACs verified, so both sides have the same key.
 */
int migtcp_kx_complete(struct sock *sk, const u8 *peer_half, u8 peer_flags)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct migtcp_kx *kx = &msk->kx;
	u64 local = (u64)msk->local_node << 16 | msk->local_port;
	u64 remote = (u64)msk->remote_node << 16 | msk->remote_port;
	u8 msg[MIGTCP_KX_MSG_LEN];
	u8 conn_key[SHA256_DIGEST_SIZE];
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

	err = migtcp_node_hmac(sock_net(sk), msg, sizeof(msg), conn_key, NULL);
	memzero_explicit(msg, sizeof(msg));
	/* After a SYN cookie, our ACKs echo our half until it is taken. */
	if (!(kx->proof_pending && (peer_flags & MIGTCP_KX_F_COOKIE)))
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

static void migtcp_kx_free_tfms(void)
{
	int cpu;

	if (!migtcp_kx_tfms)
		return;
	for_each_possible_cpu(cpu)
		crypto_free_shash(*per_cpu_ptr(migtcp_kx_tfms, cpu));
	free_percpu(migtcp_kx_tfms);
	migtcp_kx_tfms = NULL;
}

int migtcp_kx_register(void)
{
	static const u8 zero_key[MIGTCP_KEY_LEN];
	u8 secret[MIGTCP_KEY_LEN];
	struct crypto_shash *tfm;
	int cpu;

	migtcp_kx_tfms = alloc_percpu(struct crypto_shash *);
	if (!migtcp_kx_tfms)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
		if (IS_ERR(tfm)) {
			pr_err("cannot allocate hmac(sha256): %ld\n",
			       PTR_ERR(tfm));
			migtcp_kx_free_tfms();
			return PTR_ERR(tfm);
		}
		*per_cpu_ptr(migtcp_kx_tfms, cpu) = tfm;
	}
	tfm = migtcp_kx_keyed_tfm(zero_key);
	if (IS_ERR(tfm)) {
		pr_err("cannot set up hmac(sha256): %ld\n", PTR_ERR(tfm));
		migtcp_kx_free_tfms();
		return PTR_ERR(tfm);
	}
	migtcp_kx_zero_tfm = tfm;

	get_random_bytes(secret, sizeof(secret));
	tfm = migtcp_kx_keyed_tfm(secret);
	memzero_explicit(secret, sizeof(secret));
	if (IS_ERR(tfm)) {
		pr_err("cannot set up hmac(sha256): %ld\n", PTR_ERR(tfm));
		crypto_free_shash(migtcp_kx_zero_tfm);
		migtcp_kx_zero_tfm = NULL;
		migtcp_kx_free_tfms();
		return PTR_ERR(tfm);
	}
	migtcp_kx_secret_tfm = tfm;
	return 0;
}

void migtcp_kx_unregister(void)
{
	crypto_free_shash(migtcp_kx_secret_tfm);
	migtcp_kx_secret_tfm = NULL;
	crypto_free_shash(migtcp_kx_zero_tfm);
	migtcp_kx_zero_tfm = NULL;
	migtcp_kx_free_tfms();
}
