// SPDX-License-Identifier: GPL-2.0
/*
 * The byte stream as the user sees it: sendmsg() queues data in segments
 * of at most the MSS, recvmsg() copies what arrived in order, shutdown()
 * and close() end each direction with a FIN.  Semantics are Linux TCP's
 * (inet_sendmsg/tcp_sendmsg, tcp_recvmsg, inet_shutdown).
 */
#include <linux/ioctl.h>
#include <linux/sockios.h>
#include <linux/uio.h>
#include <asm/ioctls.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "migtcp.h"

/* Wakes writers once a third of the send buffer is free again. */
void migtcp_write_space(struct sock *sk)
{
	struct socket_wq *wq;

	if (!sk_stream_is_writeable(sk) || !sk->sk_socket)
		return;
	clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM |
					   EPOLLWRBAND);
	rcu_read_unlock();
}

/* Frees everything queued in either direction. */
void migtcp_purge_queues(struct sock *sk)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&sk->sk_write_queue)))
		migtcp_wmem_free_skb(sk, skb);
	__skb_queue_purge(&sk->sk_receive_queue);
	migtcp_ofo_purge(sk);
}

/*
 * Queues @skb for sending and charges it to the socket.  The caller
 * scheduled the memory (sk_wmem_schedule()); where that failed and the
 * skb must be queued anyway, forward allocation goes negative until the
 * next uncharge makes it up.
 */
static void migtcp_queue_seg(struct sock *sk, struct sk_buff *skb,
			     unsigned int len, bool fin)
{
	struct migtcp_sock *msk = migtcp_sk(sk);

	MIGTCP_SKB_CB(skb)->seq = msk->write_seq;
	MIGTCP_SKB_CB(skb)->end_seq = msk->write_seq + len + fin;
	MIGTCP_SKB_CB(skb)->fin = fin;
	msk->write_seq += len + fin;
	__skb_queue_tail(&sk->sk_write_queue, skb);
	sk_wmem_queued_add(sk, skb->truesize);
	sk_mem_charge(sk, skb->truesize);
}

/* Queues our FIN after the data and sends what the window allows. */
void migtcp_send_fin(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *skb;

	if (msk->fin_queued)
		return;
	/* A FIN must not be lost to memory pressure: wait for it. */
	skb = migtcp_alloc_seg(sk, sk->sk_allocation | __GFP_NOFAIL);
	/* Charged even beyond the limits: see migtcp_queue_seg(). */
	sk_wmem_schedule(sk, skb->truesize);
	migtcp_queue_seg(sk, skb, 0, true);
	msk->fin_queued = true;
	migtcp_push(sk);
}

static bool migtcp_can_send(const struct sock *sk)
{
	return (1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT);
}

/* A write that failed must not leave an empty skb to be sent. */
static void migtcp_remove_empty_tail(struct sock *sk)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);

	if (skb && !skb->len && !MIGTCP_SKB_CB(skb)->fin &&
	    !migtcp_before(MIGTCP_SKB_CB(skb)->seq, migtcp_sk(sk)->snd_max)) {
		__skb_unlink(skb, &sk->sk_write_queue);
		migtcp_wmem_free_skb(sk, skb);
	}
}

/*
 * Copies up to *@size bytes of @msg into the page fragments of @skb, the
 * last queued one, and charges them to the socket.  Sets *@size to what
 * was copied; -EAGAIN when a page or a fragment slot must be waited for.
 */
static int migtcp_copy_to_skb(struct sock *sk, struct sk_buff *skb,
			      struct msghdr *msg, size_t *size)
{
	struct page_frag *pfrag = sk_page_frag(sk);
	int i = skb_shinfo(skb)->nr_frags;
	size_t copy = *size;
	bool merge;
	int err;

	if (!sk_page_frag_refill(sk, pfrag))
		return -EAGAIN;
	merge = skb_can_coalesce(skb, i, pfrag->page, pfrag->offset);
	copy = min_t(size_t, copy, pfrag->size - pfrag->offset);
	/* The socket's share of the memory for what it copies. */
	if (!sk_wmem_schedule(sk, copy))
		return -EAGAIN;
	err = skb_copy_to_page_nocache(sk, &msg->msg_iter, skb, pfrag->page,
				       pfrag->offset, copy);
	if (err)
		return err;
	if (merge) {
		skb_frag_size_add(&skb_shinfo(skb)->frags[i - 1], copy);
	} else {
		skb_fill_page_desc(skb, i, pfrag->page, pfrag->offset, copy);
		page_ref_inc(pfrag->page);
	}
	pfrag->offset += copy;
	*size = copy;
	return 0;
}

/*
 * Takes up to *@size bytes of the pages of @msg into @skb, the last
 * queued one, by reference (sendfile(), splice(): see compat.h), and
 * charges them to the socket.  The fragments are marked shared: they
 * are someone else's pages (a file's), which nothing may write into.
 * Sets *@size to what was taken; -EAGAIN when memory must be waited
 * for, -EMSGSIZE when @skb has no fragment slot left.
 */
static int migtcp_splice_to_skb(struct sock *sk, struct sk_buff *skb,
				struct msghdr *msg, size_t *size)
{
	ssize_t taken;

	if (!sk_wmem_schedule(sk, *size))
		return -EAGAIN;
	taken = migtcp_skb_splice(skb, &msg->msg_iter, *size,
				  sk->sk_allocation);
	if (taken < 0)
		return taken;
	if (!(msg->msg_flags & MSG_NO_SHARED_FRAGS))
		skb_shinfo(skb)->flags |= SKBFL_SHARED_FRAG;
	sk_wmem_queued_add(sk, taken);
	sk_mem_charge(sk, taken);
	*size = taken;
	return 0;
}

/*
 * sendmsg() with the socket locked; @splice: take @msg's pages by
 * reference instead of copying them.
 */
static int migtcp_send_locked(struct sock *sk, struct msghdr *msg,
			      bool splice)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	struct sk_buff *full = NULL;	/* the tail skb took no more pages */
	int flags = msg->msg_flags;
	size_t copied = 0;
	long timeo;
	int err = 0;

	timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);
	/* As tcp_sendmsg(): wait for a handshake; not connected is EPIPE. */
	if (!migtcp_can_send(sk)) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto out_err;
	}
	while (msg_data_left(msg)) {
		struct sk_buff *skb;
		size_t size;

		if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN)) {
			err = -EPIPE;
			goto out_err;
		}
		if (!migtcp_can_send(sk)) {
			err = -ENOTCONN;
			goto out_err;
		}
		if (!sk_stream_memory_free(sk)) {
			migtcp_push(sk);
			err = sk_stream_wait_memory(sk, &timeo);
			if (err)
				goto out_err;
			continue;
		}
		/* Writes fill the last skb while it is unsent. */
		skb = skb_peek_tail(&sk->sk_write_queue);
		/* A clone of it may be in flight: its fragments are shared. */
		if (!skb || MIGTCP_SKB_CB(skb)->fin || skb_cloned(skb) ||
		    migtcp_before(MIGTCP_SKB_CB(skb)->seq, msk->snd_max) ||
		    skb->len >= msk->size_goal || skb == full ||
		    skb_shinfo(skb)->nr_frags >= MAX_SKB_FRAGS) {
			/* Acknowledgments that came meanwhile free room. */
			if (sk_flush_backlog(sk))
				continue;
			skb = migtcp_alloc_seg(sk, sk->sk_allocation);
			if (!skb) {
				err = -ENOBUFS;
				goto wait_memory;
			}
			if (!sk_wmem_schedule(sk, skb->truesize)) {
				kfree_skb(skb);
				goto wait_memory;
			}
			migtcp_queue_seg(sk, skb, 0, false);
		}
		size = min_t(size_t, msg_data_left(msg),
			     msk->size_goal - skb->len);
		if (splice)
			err = migtcp_splice_to_skb(sk, skb, msg, &size);
		else
			err = migtcp_copy_to_skb(sk, skb, msg, &size);
		/* No fragment slot left (net.core.max_skb_frags): the next skb. */
		if (err == -EMSGSIZE) {
			full = skb;
			continue;
		}
		if (err == -EAGAIN)
			goto wait_memory;
		if (err) {
			migtcp_remove_empty_tail(sk);
			goto out_err;
		}
		MIGTCP_SKB_CB(skb)->end_seq += size;
		msk->write_seq += size;
		copied += size;
		/* Keep the pipe full while copying a large write. */
		if (skb->len >= msk->size_goal)
			migtcp_push(sk);
		continue;
wait_memory:
		migtcp_remove_empty_tail(sk);
		migtcp_push(sk);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto out_err;
	}
	migtcp_push(sk);
	return copied;

out_err:
	migtcp_push(sk);
	if (copied)
		return copied;
	return sk_stream_error(sk, flags, err);
}

int migtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	int ret;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	lock_sock(sk);
	ret = migtcp_send_locked(sk, msg, migtcp_msg_splices(msg));
	release_sock(sk);
	return ret;
}

/*
 * Before 6.5, sendfile() and splice() hand the socket one page at a
 * time here, where the page goes into the send queue by reference as
 * in 6.5's MSG_SPLICE_PAGES (compat.h).
 */
ssize_t migtcp_sendpage(struct socket *sock, struct page *page, int offset,
			size_t size, int flags)
{
	struct bio_vec bvec = {
		.bv_page = page, .bv_offset = offset, .bv_len = size,
	};
	struct msghdr msg = { .msg_flags = flags };
	struct sock *sk = sock->sk;
	ssize_t ret;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bvec, 1, size);
	lock_sock(sk);
	ret = migtcp_send_locked(sk, &msg, true);
	release_sock(sk);
	return ret;
}

/*
 * After the reader freed buffer space, tell the peer when the window we
 * could offer now is at least twice the one it knows, and a segment more
 * (as tcp_cleanup_rbuf(); RFC 9293 3.8.6.2.2).  In bytes, unscaled.
 */
static void migtcp_window_update(struct sock *sk)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	u32 known = migtcp_offered_window(msk);
	u32 now = migtcp_free_window(sk);

	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 |
				     TCPF_FIN_WAIT2)))
		return;
	if (now >= 2 * known && now >= known + msk->mss)
		migtcp_send_ack(sk);
}

/*
 * Waits for the stream to move on (new data, or the FIN: RCV.NXT changes),
 * an error or the end.  Unlike sk_wait_data(), it also waits when the
 * queue is not empty, as with MSG_PEEK, and sees data coalesced into the
 * last skb.
 */
static void migtcp_wait_data(struct sock *sk, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	u32 seen = migtcp_sk(sk)->rcv_nxt;

	add_wait_queue(sk_sleep(sk), &wait);
	sk_set_bit(SOCKWQ_ASYNC_WAITDATA, sk);
	sk_wait_event(sk, timeo,
		      READ_ONCE(migtcp_sk(sk)->rcv_nxt) != seen ||
		      READ_ONCE(sk->sk_err) ||
		      (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
		      sk->sk_state == TCP_CLOSE, &wait);
	sk_clear_bit(SOCKWQ_ASYNC_WAITDATA, sk);
	remove_wait_queue(sk_sleep(sk), &wait);
}

/*
 * Where the bytes of the receive queue go: @read takes up to @len bytes
 * of @skb from @offset on and returns how many it took (less when it has
 * no room for more), or an error.
 */
struct migtcp_reader {
	int (*read)(struct migtcp_reader *r, struct sk_buff *skb, u32 offset,
		    size_t len);
	struct sock *sk;
	struct msghdr *msg;			/* recvmsg() */
	struct pipe_inode_info *pipe;		/* splice() */
	unsigned int flags;
};

static int migtcp_read_to_msg(struct migtcp_reader *r, struct sk_buff *skb,
			      u32 offset, size_t len)
{
	return skb_copy_datagram_msg(skb, offset, r->msg, len) ?: len;
}

static int migtcp_read_to_pipe(struct migtcp_reader *r, struct sk_buff *skb,
			       u32 offset, size_t len)
{
	return skb_splice_bits(skb, r->sk, offset, r->pipe, len, r->flags);
}

/*
 * Hands up to @len bytes of the receive queue, from @seq on, to @r; frees
 * what was read whole unless @peek.  How many it took, or the error of
 * the first read.
 */
static int migtcp_read_queue(struct sock *sk, struct migtcp_reader *r,
			     size_t len, u32 *seq, bool peek)
{
	struct sk_buff *skb, *tmp;
	int done = 0, n;

	skb_queue_walk_safe(&sk->sk_receive_queue, skb, tmp) {
		u32 offset = *seq - MIGTCP_SKB_CB(skb)->seq;
		size_t chunk;

		if (offset >= skb->len)
			continue;
		chunk = min_t(size_t, skb->len - offset, len - done);
		n = r->read(r, skb, offset, chunk);
		if (n <= 0)
			return done ?: n;
		done += n;
		*seq += n;
		if (!peek && offset + n == skb->len) {
			__skb_unlink(skb, &sk->sk_receive_queue);
			kfree_skb(skb);
		}
		if (n < chunk || done == len)
			break;
	}
	return done;
}

/*
 * recvmsg() and splice() from the socket, locked: hands up to @len bytes
 * to @r, waiting up to @timeo for at least the low-water mark (MSG_PEEK
 * and MSG_WAITALL in @flags as recvmsg() has them).
 */
static int migtcp_read_locked(struct sock *sk, struct migtcp_reader *r,
			      size_t len, int flags, long timeo)
{
	struct migtcp_sock *msk = migtcp_sk(sk);
	bool peek = flags & MSG_PEEK;
	int copied = 0, target, err = 0;
	u32 peek_seq, *seq;

	if (sk->sk_state == TCP_LISTEN)
		return -ENOTCONN;
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	peek_seq = msk->copied_seq;
	seq = peek ? &peek_seq : &msk->copied_seq;

	while (copied < len) {
		int n = migtcp_read_queue(sk, r, len - copied, seq, peek);

		if (n < 0) {
			err = n;
			break;
		}
		copied += n;
		if (copied >= target)
			break;
		/* Segments that came while we copied: take them first. */
		if (sk_flush_backlog(sk))
			continue;
		if (copied) {
			if (sk->sk_err || sk->sk_state == TCP_CLOSE ||
			    (sk->sk_shutdown & RCV_SHUTDOWN) || !timeo ||
			    signal_pending(current))
				break;
		} else {
			/* As tcp_recvmsg(): EOF, then a pending error, then
			 * a direction shut down.
			 */
			if (sock_flag(sk, SOCK_DONE))
				break;
			if (sk->sk_err) {
				err = sock_error(sk);
				break;
			}
			if (sk->sk_shutdown & RCV_SHUTDOWN)
				break;
			if (sk->sk_state == TCP_CLOSE) {
				err = -ENOTCONN;
				break;
			}
			if (!timeo) {
				err = -EAGAIN;
				break;
			}
			if (signal_pending(current)) {
				err = sock_intr_errno(timeo);
				break;
			}
		}
		if (!peek)
			migtcp_window_update(sk);
		migtcp_wait_data(sk, &timeo);
	}
	if (!peek && copied) {
		migtcp_rcvbuf_adjust(sk);
		migtcp_window_update(sk);
	}
	return copied ?: err;
}

int migtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		   int flags)
{
	struct migtcp_reader r = {
		.read = migtcp_read_to_msg, .sk = sock->sk, .msg = msg,
	};
	struct sock *sk = sock->sk;
	int ret;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	lock_sock(sk);
	ret = migtcp_read_locked(sk, &r, len, flags,
				 sock_rcvtimeo(sk, flags & MSG_DONTWAIT));
	release_sock(sk);
	return ret;
}

/*
 * splice() from the socket to a pipe: the pages of the received
 * segments go into the pipe by reference (skb_splice_bits()), as
 * tcp_splice_read() does.  A socket has no file position; O_NONBLOCK on
 * the socket's file makes it not wait for data (SPLICE_F_NONBLOCK is
 * the pipe's side).
 */
ssize_t migtcp_splice_read(struct socket *sock, loff_t *ppos,
			   struct pipe_inode_info *pipe, size_t len,
			   unsigned int flags)
{
	struct migtcp_reader r = {
		.read = migtcp_read_to_pipe, .sk = sock->sk, .pipe = pipe,
		.flags = flags,
	};
	struct sock *sk = sock->sk;
	ssize_t ret;

	if (unlikely(*ppos))
		return -ESPIPE;
	len = min_t(size_t, len, INT_MAX);
	lock_sock(sk);
	ret = migtcp_read_locked(sk, &r, len, 0,
				 sock_rcvtimeo(sk, sock->file->f_flags &
						   O_NONBLOCK));
	release_sock(sk);
	return ret;
}

/* SIOCINQ and SIOCOUTQ, as tcp_ioctl() answers them. */
int migtcp_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct migtcp_sock *msk = migtcp_sk(sk);
	int answ;

	switch (cmd) {
	case SIOCINQ:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		lock_sock(sk);
		answ = msk->rcv_nxt - msk->copied_seq;
		/* The FIN occupies a sequence number but is no data. */
		if (answ && sock_flag(sk, SOCK_DONE))
			answ--;
		release_sock(sk);
		break;
	case SIOCOUTQ:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		lock_sock(sk);
		answ = msk->write_seq - msk->snd_una;
		if (msk->fin_queued && answ)
			answ--;
		release_sock(sk);
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return put_user(answ, (int __user *)arg);
}

int migtcp_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int err = 0;

	/* SHUT_RD, SHUT_WR, SHUT_RDWR are 0, 1, 2; the masks 1, 2, 3. */
	how++;
	if (how <= 0 || how > SHUTDOWN_MASK)
		return -EINVAL;

	lock_sock(sk);
	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN | TCPF_SYN_SENT)) {
		err = -ENOTCONN;
		goto out;
	}
	sk->sk_shutdown |= how;
	if (how & SEND_SHUTDOWN) {
		if (sk->sk_state == TCP_ESTABLISHED) {
			migtcp_set_state(sk, TCP_FIN_WAIT1);
			migtcp_send_fin(sk);
		} else if (sk->sk_state == TCP_CLOSE_WAIT) {
			migtcp_set_state(sk, TCP_LAST_ACK);
			migtcp_send_fin(sk);
		}
	}
	sk->sk_state_change(sk);
out:
	release_sock(sk);
	return err;
}
