// SPDX-License-Identifier: GPL-2.0
/*
 * The AF_MIGTCP socket family: socket creation and the BSD socket
 * operations, with TCP's semantics and errors.  Operations the transport
 * does not provide yet (data, shutdown) answer EOPNOTSUPP through the
 * kernel's sock_no_*() helpers rather than pretending to succeed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/net.h>
#include <linux/poll.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "migtcp.h"

struct proto migtcp_prot = {
	.name		= "MIGTCP",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct migtcp_sock),
	.keepalive	= migtcp_set_keepalive,
	.release_cb	= migtcp_release_cb,
	/* Socket memory accounting, as TCP's (mem.c). */
	.memory_allocated	= &migtcp_memory_allocated,
	.per_cpu_fw_alloc	= &migtcp_memory_per_cpu_fw_alloc,
	.sockets_allocated	= &migtcp_sockets_allocated,
	.memory_pressure	= &migtcp_memory_pressure,
	.enter_memory_pressure	= migtcp_enter_memory_pressure,
	.leave_memory_pressure	= migtcp_leave_memory_pressure,
	.sysctl_mem		= migtcp_mem,
	.sysctl_wmem		= migtcp_wmem,
	.sysctl_rmem		= migtcp_rmem,
};

static int migtcp_backlog_rcv(struct sock *sk, struct sk_buff *skb)
{
	return migtcp_sock_rcv(sk, skb);
}

static void migtcp_destruct(struct sock *sk)
{
	migtcp_purge_queues(sk);
	sk_dst_reset(sk);
	migtcp_kx_forget(sk);
	sk_mem_reclaim_final(sk);
	sk_sockets_allocated_dec(sk);
	/* As inet_sock_destruct(): all memory given back, to the byte. */
	WARN_ON_ONCE(atomic_read(&sk->sk_rmem_alloc));
	WARN_ON_ONCE(sk->sk_wmem_queued);
	WARN_ON_ONCE(sk->sk_forward_alloc);
}

/* What every AF_MIGTCP sock needs, whether created or passively opened. */
void migtcp_init_sock(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	sk->sk_type = SOCK_STREAM;
	sk->sk_protocol = migtcp_proto;
	sk->sk_state = TCP_CLOSE;
	sk->sk_backlog_rcv = migtcp_backlog_rcv;
	sk->sk_destruct = migtcp_destruct;
	sk->sk_write_space = migtcp_write_space;
	/*
	 * The send buffer is sk_wmem_queued's, as TCP's: segments in flight
	 * (owned by the socket, policy.c) give back their sk_wmem_alloc
	 * without a write_space call from the device's context.
	 */
	sock_set_flag(sk, SOCK_USE_WRITE_QUEUE);
	/*
	 * The packet path finds sockets in the connection and port tables
	 * under RCU, without a lock (conn.c, port.c): a socket's memory
	 * must outlive a lookup that found it as it was unhashed, so it is
	 * freed after a grace period, as TCP's listeners and UDP's sockets.
	 */
	sock_set_flag(sk, SOCK_RCU_FREE);
	sk->sk_sndbuf = READ_ONCE(migtcp_wmem[1]);
	sk->sk_rcvbuf = READ_ONCE(migtcp_rmem[1]);
	sk_sockets_allocated_inc(sk);
	migtcp_rtt_reset(sk);
	migtcp_cong_init(sk, NULL);
	migtcp_mig_init(sk);
	msk->ofo_root = RB_ROOT;
	msk->ofo_last = NULL;
	spin_lock_init(&msk->accept_lock);
	INIT_LIST_HEAD(&msk->syn_queue);
	INIT_LIST_HEAD(&msk->accept_queue);
	INIT_LIST_HEAD(&msk->queue_node);
	migtcp_init_timers(sk);
}

/*
 * As tcp_close(): a connection closes with a FIN after the data still
 * queued, and the socket lives on (an orphan) until the exchange is over;
 * with unread data, or SO_LINGER of 0, it aborts with a reset instead,
 * and so it does when its node keeps max_orphans orphans already.
 * Closing a listener resets the connections waiting for it.
 */
static bool migtcp_close_gracefully(struct sock *sk)
{
	if (!skb_queue_empty(&sk->sk_receive_queue) ||
	    (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime)) {
		migtcp_abort(sk, true);
		return false;
	}
	/* Those that will still deliver data or a FIN count (pernet.c). */
	if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				   MIGTCPF_ORPHAN_STATES) &&
	    !migtcp_orphan_count(sk)) {
		migtcp_orphan_abort(sk);
		return false;
	}
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
		migtcp_set_state(sk, TCP_FIN_WAIT1);
		migtcp_send_fin(sk);
		return true;
	case TCP_CLOSE_WAIT:
		migtcp_set_state(sk, TCP_LAST_ACK);
		migtcp_send_fin(sk);
		return true;
	case TCP_FIN_WAIT1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
	case TCP_TIME_WAIT:
		return true;
	case TCP_FIN_WAIT2:
		migtcp_arm_linger(sk);
		return true;
	default:
		migtcp_abort(sk, false);
		return false;
	}
}

static int migtcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	bool orphan = false;

	if (!sk)
		return 0;

	/* The connection may end (and drop the orphan's reference) while the
	 * backlog is processed at release_sock().
	 */
	sock_hold(sk);
	lock_sock(sk);
	if (migtcp_mig_release(sk)) {
		/* It lives on elsewhere; a record of it stays here. */
		if (sk->sk_state == TCP_LISTEN)
			migtcp_listen_depart(sk);
		orphan = true;
	} else if (sk->sk_state == TCP_LISTEN) {
		migtcp_listen_stop(sk);
	} else {
		orphan = migtcp_close_gracefully(sk);
	}
	sk->sk_shutdown = SHUTDOWN_MASK;
	if (!orphan)
		migtcp_port_unbind(sk);
	sock_orphan(sk);
	if (orphan)
		migtcp_net_orphan(sk);
	release_sock(sk);

	sock->sk = NULL;
	if (!orphan) {
		migtcp_net_unlink_sock(sk);
		sock_put(sk);
	}
	sock_put(sk);
	return 0;
}

/*
 * Binds to (node, port): node 0 is this node, port 0 an ephemeral port.
 * Errors as inet_bind() gives them, except that an address of the wrong
 * family is EINVAL, as bind(2) documents.
 */
static int migtcp_bind(struct socket *sock, struct sockaddr *uaddr,
		       int addr_len)
{
	const struct sockaddr_mig *addr = (const struct sockaddr_mig *)uaddr;
	struct sock *sk = sock->sk;
	u16 port;
	int err;

	if (addr_len < (int)sizeof(*addr) || addr->smig_family != migtcp_family)
		return -EINVAL;
	port = ntohs(addr->smig_port);
	if (port && port < PROT_SOCK &&
	    !ns_capable(sock_net(sk)->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	lock_sock(sk);
	if (sk->sk_state != TCP_CLOSE || migtcp_sk(sk)->local_port)
		err = -EINVAL;
	else if (migtcp_mig_frozen(sk))
		err = -EBUSY;
	else
		err = migtcp_port_bind(sk, addr->smig_node, port);
	/* As TCP: a port the user chose stays when a connection ends. */
	if (!err && port)
		sk->sk_userlocks |= SOCK_BINDPORT_LOCK;
	release_sock(sk);
	return err;
}

/* Sends the SYN of an active open to (@node, @port). */
static int migtcp_start_connect(struct sock *sk, u32 node, u16 port)
{
	struct migtcp_net *mn = migtcp_pernet(sock_net(sk));
	struct migtcp_sock *msk = migtcp_sk(sk);
	bool autobound = false;
	int err;

	if (!READ_ONCE(mn->node.id))
		return -EADDRNOTAVAIL;
	/* As connecting to INADDR_ANY reaches this host. */
	if (!node)
		node = READ_ONCE(mn->node.id);
	err = migtcp_resolve_path(sk, node);
	if (err)
		return err;
	if (!msk->local_port) {
		err = migtcp_port_bind(sk, 0, 0);
		if (err)
			return err;
		autobound = true;
	}
	msk->remote_node = node;
	msk->remote_port = port;
	err = migtcp_conn_hash(sk);
	if (err) {
		msk->remote_node = 0;
		msk->remote_port = 0;
		if (autobound)
			migtcp_port_unbind(sk);
		return err;
	}

	msk->iss = migtcp_isn(msk);
	msk->snd_una = msk->iss;
	msk->snd_nxt = msk->iss + 1;
	msk->write_seq = msk->snd_nxt;
	msk->rcv_wscale = migtcp_our_wscale();
	msk->sack_ok = migtcp_sack_enabled();
	migtcp_rtt_reset(sk);
	msk->retransmits = 0;
	msk->mig.redirects = 0;
	migtcp_kx_connect(sk);
	migtcp_set_state(sk, TCP_SYN_SENT);
	migtcp_send_ctl(sk, MIGTCP_F_SYN, msk->iss);
	migtcp_arm_retransmit(sk);
	return 0;
}

/* Waits while the handshake is in progress; the socket lock is held. */
static int migtcp_wait_connect(struct sock *sk, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int err = 0;

	add_wait_queue(sk_sleep(sk), &wait);
	while (sk->sk_state == TCP_SYN_SENT) {
		if (!*timeo) {
			err = -EINPROGRESS;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(*timeo);
			break;
		}
		sk_wait_event(sk, timeo, sk->sk_state != TCP_SYN_SENT, &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return err;
}

/*
 * What a connection left in @sk's connection state, as a fresh socket has
 * it: a connection made later on the socket must start from nothing (a
 * FIN still marked queued would never be sent, an old peer epoch would
 * make the new peer's HOLDs and updates look stale, and the old key must
 * not stay in memory).  For a restore that failed (checkpoint.c) and for
 * a connection that ended (as tcp_disconnect() resets a TCP socket).
 */
void migtcp_forget_conn(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	msk->path_daddr = in6addr_any;
	msk->path_saddr = in6addr_any;
	msk->mig.peer_epoch = 0;
	migtcp_kx_forget(sk);
	msk->iss = 0;
	msk->irs = 0;
	msk->snd_una = 0;
	msk->snd_nxt = 0;
	msk->snd_max = 0;
	msk->write_seq = 0;
	msk->snd_wnd = 0;
	msk->max_window = 0;
	msk->snd_wl1 = 0;
	msk->snd_wscale = 0;
	msk->rcv_wscale = 0;
	msk->sack_ok = false;
	migtcp_sack_reset(sk);
	msk->sacked_bytes = 0;
	msk->rcv_nxt = 0;
	msk->copied_seq = 0;
	msk->rcv_wup = 0;
	msk->rcv_wnd = 0;
	msk->fin_queued = false;
	msk->retransmits = 0;
	msk->dup_acks = 0;
	msk->in_recovery = false;
	msk->rtt_start = 0;
	msk->peer_mss = 0;
	migtcp_cong_reset(sk);
	migtcp_rtt_reset(sk);
	msk->retrans_stamp = 0;
	msk->rcv_tstamp = 0;
	msk->probes_out = 0;
	msk->rcvq_time = 0;
	msk->rcv_rtt = 0;
	msk->rcv_rtt_time = 0;
	msk->bytes_sent = 0;
	msk->bytes_acked = 0;
	msk->bytes_received = 0;
	msk->total_retrans = 0;
	msk->quickacks = 0;
}

/*
 * A connect() that failed has been reported: the socket starts afresh for
 * the next connect() or listen(), as tcp_disconnect() leaves a TCP socket.
 * migtcp_done() shut it down both ways for the waiters of the attempt (and
 * gave up its peer); a new connection must not inherit that.  Nor anything
 * else of a connection that was established and ended meanwhile (a
 * non-blocking connect() whose completion connect() never saw): its unread
 * data, and its sequence space with its FIN marked queued.
 */
static void migtcp_disconnect(struct sock *sk)
{
	if (sk->sk_state != TCP_CLOSE)
		return;
	WRITE_ONCE(sk->sk_shutdown, 0);
	migtcp_purge_queues(sk);
	migtcp_forget_conn(sk);
}

/* As inet_stream_connect(): the socket's state decides what connect means. */
static int migtcp_connect(struct socket *sock, struct sockaddr *uaddr,
			  int addr_len, int flags)
{
	const struct sockaddr_mig *addr = (const struct sockaddr_mig *)uaddr;
	struct sock *sk = sock->sk;
	long timeo;
	int err;

	if (addr_len < (int)sizeof(*addr))
		return -EINVAL;
	if (addr->smig_family != migtcp_family)
		return -EAFNOSUPPORT;

	lock_sock(sk);
	switch (sock->state) {
	case SS_CONNECTED:
		err = -EISCONN;
		goto out;
	case SS_CONNECTING:
		if (sk->sk_state == TCP_SYN_SENT) {
			err = -EALREADY;
			if (flags & O_NONBLOCK)
				goto out;
		}
		break;
	default:
		if (sk->sk_state != TCP_CLOSE) {
			err = -EISCONN;
			goto out;
		}
		/* Its SYN could not go; a checkpoint must find it as it was. */
		if (migtcp_mig_frozen(sk)) {
			err = -EBUSY;
			goto out;
		}
		err = migtcp_start_connect(sk, addr->smig_node,
					   ntohs(addr->smig_port));
		if (err)
			goto out;
		sock->state = SS_CONNECTING;
		break;
	}

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	err = migtcp_wait_connect(sk, &timeo);
	if (err)
		goto out;
	/*
	 * As inet_stream_connect(): only a connection that is over failed.
	 * One established meanwhile may be closing already (a non-blocking
	 * connect() seen only now, after a shutdown() or the peer's FIN):
	 * it is still this socket's, which must not look unconnected, or a
	 * connect() after its end would start anew without migtcp_disconnect().
	 */
	if (sk->sk_state != TCP_CLOSE) {
		sock->state = SS_CONNECTED;
	} else {
		err = sock_error(sk) ?: -ECONNABORTED;
		migtcp_disconnect(sk);
		sock->state = SS_UNCONNECTED;
	}
out:
	release_sock(sk);
	return err;
}

static int migtcp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	int err = 0;

	lock_sock(sk);
	if (sock->state != SS_UNCONNECTED ||
	    (sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_LISTEN)) {
		err = -EINVAL;
		goto out;
	}
	if (migtcp_mig_frozen(sk)) {
		err = -EBUSY;
		goto out;
	}
	backlog = clamp(backlog, 0,
			(int)READ_ONCE(sock_net(sk)->core.sysctl_somaxconn));
	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	if (sk->sk_state == TCP_LISTEN)
		goto out;
	if (!migtcp_sk(sk)->local_port) {
		err = migtcp_port_bind(sk, 0, 0);
		if (err)
			goto out;
	}
	err = migtcp_port_listen(sk);
out:
	release_sock(sk);
	return err;
}

static bool migtcp_accept_ready(struct sock *sk)
{
	return !list_empty(&migtcp_sk(sk)->accept_queue) ||
	       sk->sk_state != TCP_LISTEN;
}

int migtcp_do_accept(struct socket *sock, struct socket *newsock, int flags,
		     bool kern)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk, *child = NULL;
	long timeo;
	int err = 0;

	lock_sock(sk);
	timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);
	add_wait_queue(sk_sleep(sk), &wait);
	for (;;) {
		if (sk->sk_state != TCP_LISTEN) {
			err = -EINVAL;
			break;
		}
		child = migtcp_accept_dequeue(sk);
		if (child)
			break;
		if (!timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		sk_wait_event(sk, &timeo, migtcp_accept_ready(sk), &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	release_sock(sk);
	if (!child)
		return err;

	lock_sock(child);
	migtcp_accept_charge(child);
	sock_graft(child, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(child);
	return 0;
}

static int migtcp_getname(struct socket *sock, struct sockaddr *uaddr,
			  int peer)
{
	DECLARE_SOCKADDR(struct sockaddr_mig *, addr, uaddr);
	const struct migtcp_sock *msk = migtcp_sk(sock->sk);
	int state = inet_sk_state_load(sock->sk);

	memset(addr, 0, sizeof(*addr));
	addr->smig_family = migtcp_family;
	if (peer) {
		if (!READ_ONCE(msk->remote_port) ||
		    state == TCP_CLOSE || state == TCP_SYN_SENT)
			return -ENOTCONN;
		addr->smig_node = READ_ONCE(msk->remote_node);
		addr->smig_port = htons(READ_ONCE(msk->remote_port));
	} else {
		addr->smig_node = READ_ONCE(msk->local_node);
		addr->smig_port = htons(READ_ONCE(msk->local_port));
	}
	return sizeof(*addr);
}

/* Unread data reaches SO_RCVLOWAT (as tcp_stream_is_readable()). */
static bool migtcp_readable(const struct sock *sk)
{
	const struct migtcp_sock *msk = migtcp_sk(sk);
	int avail = READ_ONCE(msk->rcv_nxt) - READ_ONCE(msk->copied_seq);

	if (sock_flag(sk, SOCK_DONE) && avail)
		avail--;	/* the FIN is no data */
	return avail > 0 && avail >= max(READ_ONCE(sk->sk_rcvlowat), 1);
}

/*
 * Readiness as tcp_poll() reports it: a listener is readable when a
 * connection waits; a closed socket is hung up (and, once shut down both
 * ways, readable: read returns at once); a socket is writable once its
 * handshake is over.
 */
static __poll_t migtcp_poll(struct file *file, struct socket *sock,
			    poll_table *wait)
{
	struct sock *sk = sock->sk;
	int state = inet_sk_state_load(sk);
	u8 shutdown = READ_ONCE(sk->sk_shutdown);
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);

	if (state == TCP_LISTEN)
		return list_empty_careful(&migtcp_sk(sk)->accept_queue) ?
		       0 : EPOLLIN | EPOLLRDNORM;

	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		if (migtcp_readable(sk))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (shutdown & SEND_SHUTDOWN || sk_stream_is_writeable(sk)) {
			mask |= EPOLLOUT | EPOLLWRNORM;
		} else {
			set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
			/* Space may have come meanwhile: look again. */
			smp_mb__after_atomic();
			if (sk_stream_is_writeable(sk))
				mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	/* The error is seen after the state change it explains. */
	smp_rmb();
	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	return mask;
}

/*
 * The core reads proto_ops.family only to recognise AF_UNIX; the family
 * that sockets are created in is the one registered, from the "family"
 * parameter.
 */
static const struct proto_ops migtcp_stream_ops = {
	.family		= PF_MIGTCP,
	.owner		= THIS_MODULE,
	.release	= migtcp_release,
	.bind		= migtcp_bind,
	.connect	= migtcp_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= migtcp_accept,
	.getname	= migtcp_getname,
	.poll		= migtcp_poll,
	.ioctl		= migtcp_ioctl,
	.listen		= migtcp_listen,
	.shutdown	= migtcp_shutdown,
	.setsockopt	= migtcp_setsockopt,
	.getsockopt	= migtcp_getsockopt,
	.sendmsg	= migtcp_sendmsg,
	.recvmsg	= migtcp_recvmsg,
	.mmap		= sock_no_mmap,
	MIGTCP_SENDPAGE_OP
	.splice_read	= migtcp_splice_read,
};

static int migtcp_create(struct net *net, struct socket *sock, int protocol,
			 int kern)
{
	struct sock *sk;

	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != 0 && protocol != migtcp_proto)
		return -EPROTONOSUPPORT;

	sk = sk_alloc(net, migtcp_family, GFP_KERNEL, &migtcp_prot, kern);
	if (!sk)
		return -ENOMEM;

	sock->state = SS_UNCONNECTED;
	sock->ops = &migtcp_stream_ops;
	sock_init_data(sock, sk);
	migtcp_init_sock(sk);

	migtcp_net_link_sock(sk);
	return 0;
}

static struct net_proto_family migtcp_family_ops __ro_after_init = {
	.create	= migtcp_create,
	.owner	= THIS_MODULE,
};

int migtcp_socket_register(void)
{
	int err;

	migtcp_family_ops.family = migtcp_family;

	err = sock_register(&migtcp_family_ops);
	if (err == -EEXIST)
		pr_err("address family %d is already in use; load with family=N to pick a free slot\n",
		       migtcp_family);
	return err;
}

void migtcp_socket_unregister(void)
{
	sock_unregister(migtcp_family);
}
